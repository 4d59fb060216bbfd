package backoff

import (
	"testing"
	"time"
)

// TestJitter: waits fall in [d/2, d] and are not all alike, so sessions
// that lost the broker together do not come back in lockstep.
func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for d := Min; d <= Max; d = Next(d) {
		for range 50 {
			j := Jitter(d)
			if j < d/2 || j > d {
				t.Fatalf("Jitter(%v) = %v, want within [%v, %v]", d, j, d/2, d)
			}
			seen[j] = true
		}
		if d == Max {
			break
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct waits in 300 draws", len(seen))
	}
}
