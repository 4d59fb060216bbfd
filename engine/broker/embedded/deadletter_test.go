package embedded

import (
	"context"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

func TestNackDeadLetters(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: "orders", Kind: broker.Topic}, {Name: "orders.dlx", Kind: broker.Fanout}},
		Queues: []broker.Queue{
			{Name: "work", DeadLetterExchange: "orders.dlx"},
			{Name: "dead"},
		},
		Bindings: []broker.Binding{
			{Exchange: "orders", Queue: "work", Key: "order.*"},
			{Exchange: "orders.dlx", Queue: "dead"},
		},
	})
	ch := openChannel(t, c)
	msg := broker.Message{
		Exchange: "orders", RoutingKey: "order.created", MessageID: "o1:order.created",
		Headers: map[string]any{"x-attempt": int64(3), "x-reason": "undecodable"}, Body: []byte("{"),
	}
	if _, err := ch.Publish(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	d := recv(t, consume(t, ch, "work", "w", 1))
	if err := ch.Nack(d.Tag, false); err != nil {
		t.Fatal(err)
	}
	dead := recv(t, consume(t, ch, "dead", "d", 1))
	if dead.MessageID != msg.MessageID || string(dead.Body) != "{" || dead.Headers["x-attempt"] != int64(3) ||
		dead.Headers["x-reason"] != "undecodable" {
		t.Errorf("dead-lettered message lost properties: %+v", dead)
	}
	if dead.Exchange != "orders.dlx" || dead.RoutingKey != "order.created" || dead.Redelivered {
		t.Errorf("dead-lettered exchange %q key %q redelivered %v", dead.Exchange, dead.RoutingKey, dead.Redelivered)
	}
	assertDeath(t, dead, "work", "rejected", 1)
}

// TestTTLRetryLoop builds the engine's retry topology: a message nacked on
// the work queue is published to a retry queue with a 50 ms TTL whose dead
// letters go to exchange "orders" with key "order.created", which routes
// back to the work queue.
func TestTTLRetryLoop(t *testing.T) {
	t.Parallel()
	const ttl = 50 * time.Millisecond
	_, c := testBroker(t)
	declare(t, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: "orders", Kind: broker.Topic}, {Name: "orders.retry", Kind: broker.Direct}},
		Queues: []broker.Queue{
			{Name: "work"},
			{Name: "work.retry.50ms", TTL: ttl, DeadLetterExchange: "orders", DeadLetterRoutingKey: "order.created"},
		},
		Bindings: []broker.Binding{
			{Exchange: "orders", Queue: "work", Key: "order.created"},
			{Exchange: "orders.retry", Queue: "work.retry.50ms", Key: "work.50ms"},
		},
	})
	ch := openChannel(t, c)
	ds := consume(t, ch, "work", "w", 1)
	publish(t, ch, "orders", "order.created", "o1")

	var sent time.Time
	for attempt := 1; attempt <= 3; attempt++ {
		d := recv(t, ds)
		if string(d.Body) != "o1" || d.RoutingKey != "order.created" {
			t.Fatalf("attempt %d: body %q key %q", attempt, d.Body, d.RoutingKey)
		}
		if attempt > 1 {
			if waited := time.Since(sent); waited < ttl {
				t.Errorf("attempt %d: came back after %v, before the %v TTL", attempt, waited, ttl)
			}
			assertDeath(t, d, "work.retry.50ms", "expired", int64(attempt-1))
		}
		if attempt == 3 {
			ack(t, ch, d)
			break
		}
		// Retry as the engine does: publish to the retry queue, then ack.
		retry := d.Message
		retry.Exchange, retry.RoutingKey = "orders.retry", "work.50ms"
		sent = time.Now()
		if _, err := ch.Publish(context.Background(), retry); err != nil {
			t.Fatal(err)
		}
		ack(t, ch, d)
	}
	for _, q := range []string{"work", "work.retry.50ms"} {
		if got := ready(t, c, q); got != 0 {
			t.Errorf("queue %s holds %d after the loop", q, got)
		}
	}
}

// TestTTLExpiresWithoutConsumer checks that expiry is driven by a timer, not
// by consumer activity, and that messages expire in order, each on time.
func TestTTLExpiresWithoutConsumer(t *testing.T) {
	t.Parallel()
	const ttl = 40 * time.Millisecond
	_, c := testBroker(t)
	declare(t, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: "dlx", Kind: broker.Fanout}},
		Queues: []broker.Queue{
			{Name: "delay", TTL: ttl, DeadLetterExchange: "dlx"},
			{Name: "dead"},
		},
		Bindings: []broker.Binding{{Exchange: "dlx", Queue: "dead"}},
	})
	b := c.(*conn).b // watch the dead queue without Inspect, which also expires
	deadLen := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.queues["dead"].msgs.len()
	}
	ch := openChannel(t, c)
	start := time.Now()
	publish(t, ch, "", "delay", "first")
	time.Sleep(ttl / 2)
	publish(t, ch, "", "delay", "second")
	eventually(t, "first expiry", func() bool { return deadLen() >= 1 })
	if e := time.Since(start); e < ttl {
		t.Errorf("first expired after %v, before TTL %v", e, ttl)
	}
	eventually(t, "second expiry", func() bool { return deadLen() == 2 })
	if e := time.Since(start); e < ttl+ttl/2 {
		t.Errorf("second expired after %v, before %v", e, ttl+ttl/2)
	}
	ds := consume(t, ch, "dead", "d", 0)
	for _, want := range []string{"first", "second"} {
		d := recv(t, ds)
		if string(d.Body) != want || d.RoutingKey != "delay" {
			t.Errorf("dead got %q key %q, want %q key delay", d.Body, d.RoutingKey, want)
		}
	}
}

// TestTTLWithoutDLXDrops checks that an expired message with nowhere to go
// disappears, and that a deleted dead-letter exchange is not an error.
func TestTTLWithoutDLXDrops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    broker.Queue
	}{
		{"no dlx", broker.Queue{Name: "q", TTL: 10 * time.Millisecond}},
		{"missing dlx", broker.Queue{Name: "q", TTL: 10 * time.Millisecond, DeadLetterExchange: "gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := testBroker(t)
			declare(t, c, broker.Topology{Queues: []broker.Queue{tt.q}})
			publish(t, openChannel(t, c), "", "q", "m")
			eventually(t, "expiry", func() bool { return ready(t, c, "q") == 0 })
		})
	}
}

func TestWithDeathCounts(t *testing.T) {
	t.Parallel()
	orig := map[string]any{"k": "v"}
	h := withDeath(orig, death{queue: "r", reason: "expired", exchange: "x", routingKey: "a"})
	h = withDeath(h, death{queue: "w", reason: "rejected", exchange: "y", routingKey: "b"})
	h = withDeath(h, death{queue: "r", reason: "expired", exchange: "x", routingKey: "a"})
	if len(orig) != 1 {
		t.Errorf("input headers modified: %v", orig)
	}
	deaths := h["x-death"].([]any)
	if len(deaths) != 2 {
		t.Fatalf("x-death has %d entries, want 2: %v", len(deaths), deaths)
	}
	first := deaths[0].(map[string]any)
	if first["queue"] != "r" || first["count"] != int64(2) {
		t.Errorf("newest entry = %v, want queue r count 2", first)
	}
	if h["x-first-death-queue"] != "r" || h["x-last-death-reason"] != "expired" || h["k"] != "v" {
		t.Errorf("headers = %v", h)
	}
}

func assertDeath(t *testing.T, d broker.Delivery, queue, reason string, count int64) {
	t.Helper()
	deaths, ok := d.Headers["x-death"].([]any)
	if !ok || len(deaths) == 0 {
		t.Fatalf("no x-death header: %v", d.Headers)
	}
	e := deaths[0].(map[string]any)
	if e["queue"] != queue || e["reason"] != reason || e["count"] != count {
		t.Errorf("x-death[0] = %v, want queue %s reason %s count %d", e, queue, reason, count)
	}
}
