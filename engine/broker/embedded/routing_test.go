package embedded

import (
	"context"
	"fmt"
	"testing"

	"oms-sim/engine/broker"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    string
		binding string
		key     string
		want    bool
	}{
		{"topic exact", broker.Topic, "order.created", "order.created", true},
		{"topic exact mismatch", broker.Topic, "order.created", "order.updated", false},
		{"topic star one word", broker.Topic, "payment.*", "payment.success", true},
		{"topic star not zero words", broker.Topic, "payment.*", "payment", false},
		{"topic star not two words", broker.Topic, "payment.*", "payment.a.b", false},
		{"topic star middle", broker.Topic, "a.*.c", "a.b.c", true},
		{"topic hash zero words", broker.Topic, "order.#", "order", true},
		{"topic hash many words", broker.Topic, "order.#", "order.a.b.c", true},
		{"topic hash alone", broker.Topic, "#", "anything.at.all", true},
		{"topic hash alone empty key", broker.Topic, "#", "", true},
		{"topic a.#.b zero", broker.Topic, "a.#.b", "a.b", true},
		{"topic a.#.b one", broker.Topic, "a.#.b", "a.x.b", true},
		{"topic a.#.b many", broker.Topic, "a.#.b", "a.x.y.b", true},
		{"topic a.#.b wrong end", broker.Topic, "a.#.b", "a.x.c", false},
		{"topic prefix is not match", broker.Topic, "order", "order.created", false},
		{"direct exact", broker.Direct, "payment.success", "payment.success", true},
		{"direct no wildcard", broker.Direct, "payment.*", "payment.success", false},
		{"fanout ignores key", broker.Fanout, "whatever", "other", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := testBroker(t)
			ex, q := fmt.Sprintf("ex%d", i), fmt.Sprintf("q%d", i)
			declare(t, c, oneQueue(ex, tt.kind, q, tt.binding))
			publish(t, openChannel(t, c), ex, tt.key, "m")
			got := ready(t, c, q) == 1
			if got != tt.want {
				t.Errorf("%s binding %q key %q: routed=%v, want %v", tt.kind, tt.binding, tt.key, got, tt.want)
			}
		})
	}
}

// TestRoutingCopies checks that one message reaching several queues is
// copied to each, and reaches a queue once even when two bindings match.
func TestRoutingCopies(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: "orders", Kind: broker.Topic}},
		Queues:    []broker.Queue{{Name: "a"}, {Name: "b"}, {Name: "c"}},
		Bindings: []broker.Binding{
			{Exchange: "orders", Queue: "a", Key: "order.*"},
			{Exchange: "orders", Queue: "a", Key: "order.#"},
			{Exchange: "orders", Queue: "b", Key: "#"},
			{Exchange: "orders", Queue: "c", Key: "payment.*"},
		},
	})
	ch := openChannel(t, c)
	publish(t, ch, "orders", "order.created", "hello")
	for q, want := range map[string]int{"a": 1, "b": 1, "c": 0} {
		if got := ready(t, c, q); got != want {
			t.Errorf("queue %s: ready %d, want %d", q, got, want)
		}
	}
	// Each copy is independent: mutating one delivery must not show in another.
	da := recv(t, consume(t, ch, "a", "", 0))
	da.Body[0] = 'X'
	db := recv(t, consume(t, ch, "b", "", 0))
	if string(db.Body) != "hello" {
		t.Errorf("queue b body %q, want hello", db.Body)
	}
}

func TestPublishUnroutableIsConfirmed(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, oneQueue("orders", broker.Topic, "q", "order.created"))
	ch := openChannel(t, c)
	publish(t, ch, "orders", "nobody.listens", "m") // fails the test if not acked
	publish(t, ch, "", "no-such-queue", "m")
	if got := ready(t, c, "q"); got != 0 {
		t.Errorf("ready %d, want 0", got)
	}
}

func TestPublishDefaultExchange(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, broker.Topology{Queues: []broker.Queue{{Name: "direct-q"}}})
	publish(t, openChannel(t, c), "", "direct-q", "m")
	if got := ready(t, c, "direct-q"); got != 1 {
		t.Errorf("ready %d, want 1", got)
	}
}

func TestPublishMissingExchange(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	ch := openChannel(t, c)
	_, err := ch.Publish(context.Background(), broker.Message{Exchange: "nope", RoutingKey: "k"})
	wantErr(t, err, ErrNotFound)
	waitClosed(t, "channel after channel error", ch.Closed())
	_, err = ch.Publish(context.Background(), broker.Message{Exchange: "nope", RoutingKey: "k"})
	wantErr(t, err, broker.ErrClosed)
	// The connection survives a channel error.
	publish(t, openChannel(t, c), "", "x", "m")
}

func TestPublishKeepsProperties(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, oneQueue("orders", broker.Topic, "q", "#"))
	ch := openChannel(t, c)
	headers := map[string]any{"x-attempt": int64(2), "nested": map[string]any{"k": "v"}}
	body := []byte(`{"order_id":"o1"}`)
	msg := broker.Message{
		Exchange: "orders", RoutingKey: "order.created", ContentType: "application/json",
		MessageID: "o1:order.created", CorrelationID: "o1", Persistent: true,
		Headers: headers, Body: body,
	}
	if _, err := ch.Publish(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	// The publisher reusing its buffers must not change the stored message.
	body[0] = '!'
	headers["x-attempt"] = int64(99)
	d := recv(t, consume(t, ch, "q", "", 0))
	if d.MessageID != msg.MessageID || d.CorrelationID != "o1" || d.ContentType != "application/json" ||
		!d.Persistent || d.Queue != "q" || d.Exchange != "orders" || d.RoutingKey != "order.created" {
		t.Errorf("delivery properties changed: %+v", d)
	}
	if string(d.Body) != `{"order_id":"o1"}` || d.Headers["x-attempt"] != int64(2) {
		t.Errorf("delivery shares memory with the publisher: body %q headers %v", d.Body, d.Headers)
	}
}
