package engine

import (
	"testing"

	"oms-sim/internal/brokertest"
)

// TestMain fails the package if a test leaves a goroutine of ours behind:
// every goroutine the engine starts must end with Close (Toxiproxy's own
// are let be: see brokertest.VerifyTestMain).
func TestMain(m *testing.M) { brokertest.VerifyTestMain(m) }
