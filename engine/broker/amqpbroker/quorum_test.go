package amqpbroker

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// TestQuorumDeliveryLimitDeadLetters checks, on whatever broker the tests
// run against (3.10 and 4.x in CI), that a quorum queue with an explicit
// x-delivery-limit dead-letters a message requeued past it to its
// dead-letter exchange instead of dropping it, and that a retry queue's
// at-least-once dead-lettering still moves expired messages on.
func TestQuorumDeliveryLimitDeadLetters(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	dlx, rx := uniqueName(t, "dlx"), uniqueName(t, "retryx")
	dead, work, retry := uniqueName(t, "dead"), uniqueName(t, "work"), uniqueName(t, "retry")
	const limit = 2
	topo := broker.Topology{
		Exchanges: []broker.Exchange{{Name: dlx, Kind: broker.Topic}, {Name: rx, Kind: broker.Direct}},
		Queues: []broker.Queue{
			{Name: dead, Type: broker.Quorum},
			{Name: work, Type: broker.Quorum, DeliveryLimit: limit, DeadLetterExchange: dlx, DeadLetterRoutingKey: work + ".delivery-limit"},
			// Expired messages go back to work, as the engine's retry queues do.
			{Name: retry, Type: broker.Quorum, TTL: 50 * time.Millisecond, DeadLetterExchange: rx, DeadLetterRoutingKey: work},
		},
		Bindings: []broker.Binding{{Exchange: dlx, Queue: dead, Key: "#"}, {Exchange: rx, Queue: work, Key: work}},
	}
	declare(t, d, c, topo)

	ac, err := amqp.Dial(testURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	ch, err := ac.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	// Into the retry queue: it must come out into work when it expires.
	conf, err := ch.PublishWithDeferredConfirm("", retry, false, false, amqp.Publishing{Body: []byte("poison"), MessageId: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ok, err := conf.WaitContext(ctx); err != nil || !ok {
		t.Fatalf("publish confirm: ok=%v err=%v", ok, err)
	}

	// Take it and requeue it until the broker gives up on it.
	deliveries := 0
	for ctx.Err() == nil {
		m, ok, err := ch.Get(work, false)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if n := ready(t, c, dead); n == 1 {
				break
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if string(m.Body) != "poison" {
			t.Fatalf("body %q", m.Body)
		}
		deliveries++
		if err := m.Nack(false, true); err != nil {
			t.Fatal(err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("message not dead-lettered after %d deliveries (limit %d)", deliveries, limit)
	}
	// RabbitMQ counts delivery-count from 0 (3.x: failed deliveries, 4.x:
	// returned ones): the message is dead-lettered once it exceeds the limit.
	if deliveries < limit || deliveries > limit+1 {
		t.Errorf("delivered %d times before dead-lettering, want %d or %d (x-delivery-limit %d)", deliveries, limit, limit+1, limit)
	}
	m, ok, err := ch.Get(dead, true)
	if err != nil || !ok {
		t.Fatalf("get dead letter: ok=%v err=%v", ok, err)
	}
	if string(m.Body) != "poison" || m.MessageId != "m1" {
		t.Errorf("dead letter body %q id %q", m.Body, m.MessageId)
	}
}

func ready(t *testing.T, c *Conn, q string) int {
	t.Helper()
	info, err := c.Inspect(q)
	if err != nil {
		t.Fatal(err)
	}
	return info.Ready
}
