package engine

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine of ours behind:
// every goroutine the engine starts must end with Close. Toxiproxy's own
// are not ours: a toxic's pipe and a link's reader and writer live on
// after a fault test ends (a latency toxic's until its delayed data has
// drained; brokertest.ReplaceProxy), whatever the test does.
func TestMain(m *testing.M) {
	const tp = "github.com/Shopify/toxiproxy/v2"
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction(tp+"/toxics.(*ToxicStub).Run"),
		goleak.IgnoreAnyFunction(tp+".(*ToxicLink).read"),
		goleak.IgnoreAnyFunction(tp+".(*ToxicLink).write"),
		goleak.IgnoreAnyFunction(tp+".(*ToxicLink).RemoveToxic.func1"),
		goleak.IgnoreAnyFunction(tp+"/stream.(*ChanReader).Read"),
		goleak.IgnoreAnyFunction(tp+"/stream.(*ChanWriter).Write"),
	)
}
