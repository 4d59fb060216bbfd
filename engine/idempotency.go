package engine

import (
	"context"
	"fmt"
	"time"
)

// Defaults of the Idempotency-Key memory (flags --idempotency-keys and
// --idempotency-ttl).
const (
	// DefaultIdempotencyKeys bounds the keys kept (about 200 bytes each,
	// 20 MB at most). At 3,000 orders/s, all with keys, a key is
	// remembered for half a minute: ample for a client's retries, which
	// come within seconds.
	DefaultIdempotencyKeys = 100_000
	// DefaultIdempotencyTTL is how long a key is kept at most.
	DefaultIdempotencyTTL = time.Hour
	// MaxIdempotencyKeyLen is the longest key accepted.
	MaxIdempotencyKeyLen = 255
)

// HeaderIdempotencyKey names the request header a client sets to make
// POST /api/orders safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// CheckIdempotencyKey reports what is wrong with a key: it must be 1–255
// printable ASCII characters (a UUID is the usual choice).
func CheckIdempotencyKey(k string) error {
	if k == "" {
		return fmt.Errorf("%s is empty: send 1–%d printable ASCII characters, e.g. a UUID", HeaderIdempotencyKey, MaxIdempotencyKeyLen)
	}
	if len(k) > MaxIdempotencyKeyLen {
		return fmt.Errorf("%s is %d bytes long: at most %d", HeaderIdempotencyKey, len(k), MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%s has a byte 0x%02x at %d: only printable ASCII is allowed", HeaderIdempotencyKey, c, i)
		}
	}
	return nil
}

// KeyState is where an order placed under an Idempotency-Key stands.
type KeyState uint8

// Key states.
const (
	KeyInFlight      KeyState = iota // a request with the key is publishing now
	KeyAccepted                      // the broker confirmed the order
	KeyIndeterminate                 // answered 503 after the broker may have had it
	KeyFailed                        // answered 503 and nothing was published
)

// KeyVerdict tells the API what to do with a keyed request.
type KeyVerdict uint8

// Key verdicts.
const (
	KeyPublish  KeyVerdict = iota // publish the order (first time, or again)
	KeyReplay                     // accepted before: answer 200 with it
	KeyBusy                       // the same key is in flight: 409
	KeyMismatch                   // the key was used with another body: 422
)

// KeyInFlightStale is how long a shared key store lets a key stay in
// flight: past it, the process publishing under the key is taken for
// dead, and the key counts as indeterminate (a retry publishes the same
// order again, which the payment stage's inbox does not charge twice).
const KeyInFlightStale = 30 * time.Second

// KeyStore remembers the Idempotency-Keys of POST /api/orders. The API
// keeps its own in memory; a shared state (State.Keys) keeps them where
// every process's API finds them.
type KeyStore interface {
	// Begin looks key up for req. For KeyPublish it returns the order to
	// publish (a new one, made by mk, or the one a failed or
	// indeterminate attempt left) and marks the key in flight; the
	// caller must call End. prev is the key's state before (KeyFailed
	// for a new key), to hand back to End if the attempt publishes
	// nothing. For the other verdicts the order is the key's.
	Begin(ctx context.Context, key string, req OrderRequest, now time.Time, mk func() Order) (o Order, v KeyVerdict, prev KeyState, err error)
	// End records how publishing the key's order went.
	End(ctx context.Context, key string, s KeyState) error
}
