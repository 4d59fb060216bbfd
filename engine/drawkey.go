package engine

import (
	"fmt"
	"net/http"
)

// HeaderDrawKey names the request header that gives an order placed
// through POST /api/orders its draw key (Order.DrawKey). oms-sim's load
// generator sends "<seed>/<sequence>": the n-th arrival of two runs with
// the same seed then gets the same service times, transient errors and
// decline, although its order id (a fresh UUIDv7) differs. Without the
// header an order draws from its id, as before.
const HeaderDrawKey = "Oms-Draw-Key"

// MaxDrawKeyLen is the longest draw key accepted.
const MaxDrawKeyLen = 255

// CheckDrawKey reports what is wrong with a draw key: like an
// Idempotency-Key, 1–255 printable ASCII characters.
func CheckDrawKey(k string) error {
	if k == "" {
		return fmt.Errorf("%s is empty: send 1–%d printable ASCII characters, or no header", HeaderDrawKey, MaxDrawKeyLen)
	}
	if len(k) > MaxDrawKeyLen {
		return fmt.Errorf("%s is %d bytes long: at most %d", HeaderDrawKey, len(k), MaxDrawKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%s has a byte 0x%02x at %d: only printable ASCII is allowed", HeaderDrawKey, c, i)
		}
	}
	return nil
}

// DrawKeyOf reads a request's draw key: "" without the header, an error
// for a malformed one.
func DrawKeyOf(r *http.Request) (string, error) {
	v, ok := r.Header[HeaderDrawKey]
	if !ok {
		return "", nil
	}
	if len(v) != 1 {
		return "", fmt.Errorf("%s given %d times: send it once", HeaderDrawKey, len(v))
	}
	return v[0], CheckDrawKey(v[0])
}

// drawID is what an order's draws are keyed on: its draw key when it has
// one (the load generator's arrival), else its id. It travels in the
// message body, so every stage and process keys the same order alike.
func (o *Order) drawID() string {
	if o.DrawKey != "" {
		return o.DrawKey
	}
	return o.OrderID
}

// Seed is the seed the engine draws from (Config.Seed, or the clock's
// when it was 0): a run records it so that its replay draws alike.
func (e *Engine) Seed() uint64 { return e.cfg.Seed }
