package embedded

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

func TestKillConnections(t *testing.T) {
	t.Parallel()
	b, c := testBroker(t)
	declare(t, c, oneQueue("orders", broker.Topic, "work", "#"))
	ch := openChannel(t, c)
	publishN(t, ch, 3)
	ds := consume(t, ch, "work", "c", 2)
	recv(t, ds)
	recv(t, ds)

	b.KillConnections()
	waitClosed(t, "connection", c.Closed())
	waitClosed(t, "channel", ch.Closed())
	recvClosed(t, ds)
	wantErr(t, c.Err(), ErrConnectionLost)
	_, err := ch.Publish(context.Background(), broker.Message{Exchange: "orders", RoutingKey: "k"})
	wantErr(t, err, broker.ErrClosed)
	wantErr(t, ch.Ack(1), broker.ErrClosed)
	_, err = c.Channel()
	wantErr(t, err, broker.ErrClosed)
	if err := c.Close(); err != nil {
		t.Errorf("close after kill: %v", err)
	}

	// Reconnect: the queue survived and the two unacked messages came back first.
	c2, err := b.Dial(context.Background(), "again")
	if err != nil {
		t.Fatal(err)
	}
	if got := ready(t, c2, "work"); got != 3 {
		t.Errorf("ready %d, want 3", got)
	}
	ds = consume(t, openChannel(t, c2), "work", "c", 0)
	for i, want := range []bool{true, true, false} {
		d := recv(t, ds)
		if string(d.Body) != fmt.Sprint(i) || d.Redelivered != want {
			t.Errorf("delivery %d: got %q redelivered=%v, want redelivered=%v", i, d.Body, d.Redelivered, want)
		}
	}
}

func TestConnClose(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	ch := openChannel(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, "connection", c.Closed())
	waitClosed(t, "channel", ch.Closed())
	if err := c.Err(); err != nil {
		t.Errorf("err after clean close = %v, want nil", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	wantErr(t, c.Declare(context.Background(), broker.Topology{}), broker.ErrClosed)
	_, err := c.Inspect("q")
	wantErr(t, err, broker.ErrClosed)
}

func TestBrokerClose(t *testing.T) {
	t.Parallel()
	b, c := testBroker(t)
	declare(t, c, broker.Topology{Queues: []broker.Queue{{Name: "q", TTL: time.Hour}}})
	ch := openChannel(t, c)
	publish(t, ch, "", "q", "m") // arms the TTL timer
	ds := consume(t, openChannel(t, c), "q", "", 0)
	recv(t, ds)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, "connection", c.Closed())
	recvClosed(t, ds)
	wantErr(t, c.Err(), ErrShutdown)
	_, err := b.Dial(context.Background(), "late")
	wantErr(t, err, broker.ErrClosed)
	if err := b.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if b.Describe() != "embedded" {
		t.Errorf("Describe() = %q", b.Describe())
	}
}

func TestDeclare(t *testing.T) {
	t.Parallel()
	base := broker.Topology{
		Exchanges: []broker.Exchange{{Name: "orders", Kind: broker.Topic}, {Name: "dlx", Kind: broker.Fanout}},
		Queues: []broker.Queue{
			{Name: "work", Type: broker.Classic, DeadLetterExchange: "dlx"},
			{Name: "retry", TTL: time.Second, DeadLetterExchange: "orders", DeadLetterRoutingKey: "order.created"},
		},
		Bindings: []broker.Binding{{Exchange: "orders", Queue: "work", Key: "order.#"}},
	}
	tests := []struct {
		name  string
		again broker.Topology
		want  []error // nil: success
	}{
		{name: "identical", again: base},
		{name: "default type equals classic", again: broker.Topology{Queues: []broker.Queue{{Name: "work", DeadLetterExchange: "dlx"}}}},
		{name: "new binding on existing", again: broker.Topology{Bindings: []broker.Binding{{Exchange: "orders", Queue: "retry", Key: "x"}}}},
		{
			name:  "exchange kind mismatch",
			again: broker.Topology{Exchanges: []broker.Exchange{{Name: "orders", Kind: broker.Direct}}},
			want:  []error{ErrPreconditionFailed},
		},
		{
			name:  "queue ttl mismatch",
			again: broker.Topology{Queues: []broker.Queue{{Name: "retry", TTL: 2 * time.Second, DeadLetterExchange: "orders", DeadLetterRoutingKey: "order.created"}}},
			want:  []error{ErrPreconditionFailed},
		},
		{
			name:  "queue type mismatch",
			again: broker.Topology{Queues: []broker.Queue{{Name: "work", Type: broker.Quorum, DeadLetterExchange: "dlx"}}},
			want:  []error{ErrPreconditionFailed},
		},
		{
			name: "every problem reported",
			again: broker.Topology{
				Exchanges: []broker.Exchange{{Name: "e", Kind: "headers"}},
				Queues:    []broker.Queue{{Name: "q", DeadLetterRoutingKey: "k"}},
				Bindings:  []broker.Binding{{Exchange: "missing", Queue: "work"}},
			},
			want: []error{ErrPreconditionFailed, ErrNotFound},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := testBroker(t)
			declare(t, c, base)
			err := c.Declare(context.Background(), tt.again)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("re-declare: %v", err)
				}
				return
			}
			for _, w := range tt.want {
				wantErr(t, err, w)
			}
			// A failed declaration applies nothing.
			if _, ierr := c.Inspect("q"); !errors.Is(ierr, ErrNotFound) {
				t.Errorf("queue q exists after failed declare: %v", ierr)
			}
		})
	}
}

func TestQueueAdmin(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, oneQueue("orders", broker.Topic, "work", "#"))
	ch := openChannel(t, c)
	publishN(t, ch, 5)
	ds := consume(t, ch, "work", "c", 2)
	d := recv(t, ds)
	recv(t, ds)

	info, err := c.Inspect("work")
	if err != nil {
		t.Fatal(err)
	}
	if want := (broker.QueueInfo{Name: "work", Ready: 3, Consumers: 1}); info != want {
		t.Errorf("inspect = %+v, want %+v", info, want)
	}
	n, err := c.Purge("work")
	if err != nil || n != 3 {
		t.Errorf("purge = %d, %v; want 3, nil", n, err)
	}
	if err := c.Delete("work"); err != nil {
		t.Fatal(err)
	}
	recvClosed(t, ds) // deleting a queue cancels its consumers
	ack(t, ch, d)     // deliveries handed out stay ackable
	publish(t, ch, "orders", "order.created", "after delete")

	for name, op := range map[string]func() error{
		"inspect": func() error { _, err := c.Inspect("work"); return err },
		"purge":   func() error { _, err := c.Purge("work"); return err },
		"delete":  func() error { return c.Delete("work") },
	} {
		if err := op(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of deleted queue: %v, want ErrNotFound", name, err)
		}
	}
	// Re-declaring brings back an empty queue with no binding.
	declare(t, c, broker.Topology{Queues: []broker.Queue{{Name: "work"}}})
	if got := ready(t, c, "work"); got != 0 {
		t.Errorf("ready %d after re-declare, want 0", got)
	}
}
