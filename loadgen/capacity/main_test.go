package capacity

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine running: a
// probe's sampler must end with the probe.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
