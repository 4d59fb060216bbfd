package engine

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/embedded"
	"oms-sim/internal/brokertest"
)

// rabbitDialer returns a dialer for the real RabbitMQ, skipping the test
// when none answers (failing instead under OMS_REQUIRE_BROKER=1).
func rabbitDialer(t testing.TB) broker.Dialer { return brokertest.Dialer(t) }

// brokers lists the brokers a pipeline test runs on.
var brokers = []struct {
	name string
	dial func(t testing.TB) broker.Dialer
}{
	{"rabbitmq", rabbitDialer},
	{"embedded", func(t testing.TB) broker.Dialer {
		b := embedded.New()
		t.Cleanup(func() { b.Close() })
		return b
	}},
}

func testNamespace(t testing.TB) string { return brokertest.Namespace(t) }

// startEngine builds and starts an engine on d in a fresh namespace; the
// engine is closed and, on RabbitMQ, its topology deleted at cleanup.
func startEngine(t testing.TB, d broker.Dialer, mutate func(*Config)) *Engine {
	t.Helper()
	return startEngineOn(t, d, nil, mutate)
}

// startEngineOn is startEngine with the event log log (nil: the engine's
// own in-memory one).
func startEngineOn(t testing.TB, d broker.Dialer, log EventLog, mutate func(*Config)) *Engine {
	t.Helper()
	return startEngineBefore(t, d, log, mutate, nil)
}

// startEngineBefore is startEngineOn with before (if not nil) called on
// the built engine before it starts.
func startEngineBefore(t testing.TB, d broker.Dialer, log EventLog, mutate func(*Config), before func(*Engine)) *Engine {
	t.Helper()
	ns := testNamespace(t)
	cfg := Config{Dialer: d, Namespace: ns, Process: ns, Seed: 7, RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(e)
	}
	if log != nil {
		e.SetEventLog(log)
	}
	brokertest.Started(t, d, e.Start, e.Close, e.topology)
	return e
}

// waitStatus waits until order id reaches want.
func waitStatus(t testing.TB, e *Engine, id string, want Status) OrderRecord {
	t.Helper()
	var rec OrderRecord
	waitFor(t, 15*time.Second, fmt.Sprintf("order %s to be %s", id, want), func() bool {
		var ok bool
		rec, ok = e.Order(id)
		return ok && rec.Status == want
	})
	return rec
}

// waitSettled waits until every accepted order has a terminal status.
func waitSettled(t testing.TB, e *Engine, timeout time.Duration) OrderCounts {
	t.Helper()
	var c OrderCounts
	waitFor(t, timeout, "every accepted order to reach a terminal status", func() bool {
		c = e.Counts()
		return c.Open == 0
	})
	return c
}

// brokerConn is a client connection as rabbitmqctl lists it.
type brokerConn struct{ pid, name string }

// listConnections lists, with rabbitmqctl, the connections whose name
// (the connection_name client property) starts with prefix.
func listConnections(t testing.TB, prefix string) []brokerConn {
	t.Helper()
	brokertest.NeedTool(t, "rabbitmqctl")
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "pid", "client_properties").Output()
	if err != nil {
		t.Fatalf("rabbitmqctl list_connections: %v", err)
	}
	const key = `{"connection_name","`
	var conns []brokerConn
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, "\t", 2)
		if len(f) != 2 {
			continue
		}
		i := strings.Index(f[1], key+prefix)
		if i < 0 {
			continue
		}
		name := f[1][i+len(key):]
		if j := strings.IndexByte(name, '"'); j >= 0 {
			name = name[:j]
		}
		conns = append(conns, brokerConn{pid: f[0], name: name})
	}
	return conns
}

// closeConnections closes, from the broker side, every connection whose
// name starts with prefix, using rabbitmqctl.
func closeConnections(t testing.TB, prefix string) int {
	t.Helper()
	conns := listConnections(t, prefix)
	errs := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			errs <- exec.Command("rabbitmqctl", "-q", "close_connection", c.pid, "test: simulated connection loss").Run()
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Fatalf("rabbitmqctl close_connection: %v", err)
		}
	}
	return len(conns)
}

// waitFor polls cond until it holds or the timeout passes.
var waitFor = brokertest.WaitFor

// testChannel opens a channel on its own connection to d for a test's own
// publishing.
var testChannel = brokertest.Channel
