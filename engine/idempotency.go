package engine

import (
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
