package pgstate_test

import (
	"testing"

	"oms-sim/internal/brokertest"
)

// TestMain fails the package if a test leaves a goroutine behind (an
// engine or a pool not closed).
func TestMain(m *testing.M) { brokertest.VerifyTestMain(m) }
