package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/internal/brokertest"
)

// TestIndeterminateRecoveredThenRetriedOnce is the whole story of an order
// whose confirm is late, on RabbitMQ with a real network fault: the API's
// connection goes through a TCP proxy that delays everything the broker
// sends by 6 s, so the broker has order.created at once but its confirm
// arrives after the API's 5 s deadline. The client is told 503
// indeterminate with the order's id; the stages (another process, direct
// to the broker) run the order: it counts as recovered, not accepted.
// The client retries with the same Idempotency-Key: the API publishes the
// same order again, gets 202, and the order still runs once.
func TestIndeterminateRecoveredThenRetriedOnce(t *testing.T) {
	t.Parallel()
	direct := rabbitDialer(t)
	proxy, viaProxy := brokertest.Proxy(t)
	ns, log := testNamespace(t), engine.NewMemoryLog()
	front := startEngineOn(t, amqpbroker.New(viaProxy), log, func(c *engine.Config) {
		c.Namespace, c.Process, c.Roles, c.IdempotencyKeys = ns, ns+"-front", []string{engine.RoleAPI}, 100
	})
	back := startEngineOn(t, direct, log, func(c *engine.Config) {
		c.Namespace, c.Process, c.Roles = ns, ns+"-back", []string{engine.StagePayment, engine.StageInventory, engine.StageEmail}
	})
	srv := httptest.NewServer(Handler(front))
	defer srv.Close()
	const body = `{"product_id":2,"quantity":1,"user_id":5}`

	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(
		`{"name":"late-confirms","type":"latency","stream":"downstream","attributes":{"latency":6000}}`)); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	code, h, out := keyedPost(t, srv, "late-1", body)
	id, _ := out["order_id"].(string)
	if code != http.StatusServiceUnavailable || out["reason"] != ReasonIndeterminate || id == "" || h.Get("Retry-After") == "" {
		t.Fatalf("POST with a late confirm: %d %v, want 503 %s naming the order", code, out, ReasonIndeterminate)
	}
	waitFor(t, 20*time.Second, "the indeterminate order to run anyway", func() bool { return front.Counts().Recovered == 1 })
	if c := front.Counts(); c.Accepted != 0 || c.Confirmed != 0 || c.Indeterminate != 1 || c.Orphaned != 0 {
		t.Errorf("after it ran: %+v, want it recovered, not accepted nor confirmed", c)
	}
	if s := front.Snapshot().API; s.Indeterminate != 1 || s.Unavailable != 1 || s.Accepted != 0 {
		t.Errorf("API counts %+v, want one indeterminate 503", s)
	}

	// Let the delayed frames through, then retry with the same key.
	time.Sleep(time.Until(sent.Add(6500 * time.Millisecond)))
	if err := proxy.Toxics.RemoveToxic(context.Background(), "late-confirms"); err != nil {
		t.Fatal(err)
	}
	code, _, out = keyedPost(t, srv, "late-1", body)
	if code != http.StatusAccepted || out["order_id"] != id {
		t.Fatalf("retry: %d %v, want 202 for the same order %s", code, out, id)
	}
	waitFor(t, 10*time.Second, "payment to answer the second copy from memory", func() bool {
		return back.Snapshot().Stages[0].Redelivered >= 1
	})
	time.Sleep(300 * time.Millisecond) // any (wrong) second outcome would arrive now
	if c := front.Counts(); c != (engine.OrderCounts{Accepted: 1, Confirmed: 1}) {
		t.Errorf("after the retry: %+v, want one accepted order, confirmed once", c)
	}
	rec, _ := front.Order(id)
	var paid, confirmed int
	for _, ev := range rec.Events {
		switch ev.Type {
		case engine.EventPaid:
			paid++
		case engine.EventConfirmed:
			confirmed++
		}
	}
	if paid != 1 || confirmed != 1 {
		t.Errorf("order paid %d and confirmed %d times, want once each: %+v", paid, confirmed, rec.Events)
	}
}
