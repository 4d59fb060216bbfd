package loadgen

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine running: every
// goroutine a run starts must end with it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
