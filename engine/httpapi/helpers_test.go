package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/internal/brokertest"
)

// TestMain fails the package if a test leaves a goroutine behind, as the
// engine's own tests do.
func TestMain(m *testing.M) { brokertest.VerifyTestMain(m) }

// rabbitDialer returns a dialer for the real RabbitMQ, skipping the test
// when none answers (failing instead under OMS_REQUIRE_BROKER=1).
func rabbitDialer(t testing.TB) broker.Dialer { return brokertest.Dialer(t) }

func testNamespace(t testing.TB) string { return brokertest.Namespace(t) }

// startEngine builds and starts an engine on d in a fresh namespace; the
// engine is closed and, on RabbitMQ, its topology deleted at cleanup.
func startEngine(t testing.TB, d broker.Dialer, mutate func(*engine.Config)) *engine.Engine {
	t.Helper()
	return startEngineOn(t, d, nil, mutate)
}

// startEngineOn is startEngine with the event log log (nil: the engine's
// own in-memory one).
func startEngineOn(t testing.TB, d broker.Dialer, log engine.EventLog, mutate func(*engine.Config)) *engine.Engine {
	t.Helper()
	ns := testNamespace(t)
	cfg := engine.Config{Dialer: d, Namespace: ns, Process: ns, Seed: 7, RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if log != nil {
		e.SetEventLog(log)
	}
	brokertest.Started(t, d, e.Start, e.Close, func() broker.Topology {
		c := e.Config()
		return e.Routes().Topology(e.Names(), c.QueueType, c.RetryDelays)
	})
	return e
}

// waitStatus waits until order id reaches want.
func waitStatus(t testing.TB, e *engine.Engine, id string, want engine.Status) engine.OrderRecord {
	t.Helper()
	var rec engine.OrderRecord
	waitFor(t, 15*time.Second, fmt.Sprintf("order %s to be %s", id, want), func() bool {
		var ok bool
		rec, ok = e.Order(id)
		return ok && rec.Status == want
	})
	return rec
}

const seedRequest = `{"product_id": 1, "quantity": 2, "user_id": 100}`

// postOrder places an order through the API and returns its id.
func postOrder(t testing.TB, srv *httptest.Server, body string) string {
	t.Helper()
	resp, err := http.Post(srv.URL+"/api/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OrderID string `json:"order_id"`
		Status  string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || out.OrderID == "" || out.Status != "pending" {
		t.Fatalf("POST /api/orders = %d %+v, want 202 with order_id and status pending", resp.StatusCode, out)
	}
	return out.OrderID
}

// stageConfig returns a stage's knobs now.
func stageConfig(e *engine.Engine, name string) engine.StageConfig {
	c, _ := e.StageConfig(name)
	return c
}

var (
	waitFor     = brokertest.WaitFor
	testChannel = brokertest.Channel
)

// placeMany places n orders through the engine (not the API), conc at a
// time, and fails the test on any error.
func placeMany(t *testing.T, e *engine.Engine, n, conc int) {
	t.Helper()
	brokertest.Concurrently(t, n, conc, "place order", func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := e.PlaceOrder(ctx, engine.OrderRequest{ProductID: 1 + i%5, Quantity: 1, UserID: i})
		return err
	})
}

// waitSettled waits until every accepted order has a terminal status.
func waitSettled(t testing.TB, e *engine.Engine, timeout time.Duration) engine.OrderCounts {
	t.Helper()
	var c engine.OrderCounts
	waitFor(t, timeout, "every accepted order to reach a terminal status", func() bool {
		c = e.Counts()
		return c.Open == 0
	})
	return c
}
