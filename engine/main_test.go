package engine

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine running: every
// goroutine the engine starts must end with Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
