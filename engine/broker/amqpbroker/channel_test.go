package amqpbroker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

func TestPublishConfirmRoundTrip(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	q := uniqueName(t, "roundtrip")
	declare(t, d, c, broker.Topology{Queues: []broker.Queue{{Name: q, Type: broker.Quorum}}})
	ch := testChannel(t, c)

	now := time.Now()
	msg := broker.Message{
		RoutingKey:    q, // default exchange routes by queue name
		ContentType:   "application/json",
		MessageID:     "o-1:order.created",
		CorrelationID: "o-1",
		Timestamp:     now,
		Persistent:    true,
		Headers:       map[string]any{"x-published-at": now.UnixNano(), "x-attempt": 1},
		Body:          []byte(`{"order_id":"o-1"}`),
	}
	publishConfirmed(t, ch, msg)

	ds, err := ch.Consume(q, "rt", 1)
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, ds, 5*time.Second)
	if err := ch.Ack(got.Tag); err != nil {
		t.Fatal(err)
	}
	if got.Queue != q || got.RoutingKey != q || got.Exchange != "" || got.Redelivered {
		t.Errorf("envelope = %+v", got)
	}
	if got.ContentType != msg.ContentType || got.MessageID != msg.MessageID || got.CorrelationID != msg.CorrelationID ||
		!got.Persistent || !bytes.Equal(got.Body, msg.Body) {
		t.Errorf("got %+v, want %+v", got.Message, msg)
	}
	// AMQP timestamps have one-second resolution.
	if !got.Timestamp.Equal(now.Truncate(time.Second)) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, now.Truncate(time.Second))
	}
	if got.Headers["x-published-at"] != now.UnixNano() {
		t.Errorf("x-published-at = %#v, want %d", got.Headers["x-published-at"], now.UnixNano())
	}
	if got.Headers["x-attempt"] != int64(1) { // an int is sent widened to int64
		t.Errorf("x-attempt = %#v", got.Headers["x-attempt"])
	}
}

func TestConsumePrefetchAckNack(t *testing.T) {
	t.Parallel()
	c, q := queueConn(t, "prefetch")
	pub := testChannel(t, c)
	for i := range 5 {
		publishConfirmed(t, pub, broker.Message{RoutingKey: q, Body: fmt.Appendf(nil, "m%d", i)})
	}

	ch := testChannel(t, c)
	ds, err := ch.Consume(q, "prefetch", 2)
	if err != nil {
		t.Fatal(err)
	}
	first := receive(t, ds, 5*time.Second)
	second := receive(t, ds, 5*time.Second)
	if string(first.Body) != "m0" || string(second.Body) != "m1" {
		t.Fatalf("got %q, %q; want m0, m1 (FIFO)", first.Body, second.Body)
	}
	select {
	case d := <-ds:
		t.Fatalf("third delivery %q with prefetch 2 and nothing acked", d.Body)
	case <-time.After(200 * time.Millisecond):
	}

	// Requeue m0: it comes back, marked redelivered, after the ones already
	// in flight.
	if err := ch.Nack(first.Tag, true); err != nil {
		t.Fatal(err)
	}
	if err := ch.Ack(second.Tag); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	redelivered := false
	for len(seen) < 4 {
		d := receive(t, ds, 5*time.Second)
		seen[string(d.Body)] = true
		if string(d.Body) == "m0" {
			redelivered = d.Redelivered
		} else if d.Redelivered {
			t.Errorf("%s redelivered", d.Body)
		}
		if err := ch.Ack(d.Tag); err != nil {
			t.Fatal(err)
		}
	}
	if !seen["m0"] || !redelivered {
		t.Errorf("nacked m0: seen %v, redelivered %v", seen["m0"], redelivered)
	}

	if err := ch.Cancel("prefetch"); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ds:
		if ok {
			t.Error("delivery after Cancel with an empty queue")
		}
	case <-time.After(5 * time.Second):
		t.Error("delivery channel not closed after Cancel")
	}
	info, err := c.Inspect(q)
	if err != nil || info.Ready != 0 || info.Consumers != 0 {
		t.Errorf("after acking all: %+v, %v", info, err)
	}
}

// TestRetryAndDeadLetter builds one stage's retry loop as DESIGN.md §3
// describes: a nack without requeue from the work queue dead-letters to a
// retry queue with a queue-wide TTL, which dead-letters back to the work
// queue on expiry; a second nack sends it to the dead-letter queue.
func TestRetryAndDeadLetter(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	x, dlx := uniqueName(t, "orders"), uniqueName(t, "dlx")
	work, retry, dead := uniqueName(t, "work"), uniqueName(t, "retry"), uniqueName(t, "dead")
	const ttl = 100 * time.Millisecond
	declare(t, d, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: x, Kind: broker.Topic}, {Name: dlx, Kind: broker.Direct}},
		Queues: []broker.Queue{
			{Name: work},
			{Name: retry, TTL: ttl, DeadLetterExchange: x, DeadLetterRoutingKey: "order.created"},
			{Name: dead},
		},
		Bindings: []broker.Binding{
			{Exchange: x, Queue: work, Key: "order.created"},
			{Exchange: dlx, Queue: dead, Key: "dead"},
		},
	})
	ch := testChannel(t, c)
	ds, err := ch.Consume(work, "work", 10)
	if err != nil {
		t.Fatal(err)
	}

	publishConfirmed(t, ch, broker.Message{Exchange: x, RoutingKey: "order.created", Body: []byte("o-1")})
	first := receive(t, ds, 5*time.Second)

	// Retry: the stage republishes to the retry queue (default exchange),
	// confirms, then acks the original.
	start := time.Now()
	publishConfirmed(t, ch, broker.Message{RoutingKey: retry, Headers: map[string]any{"x-attempt": 2}, Body: first.Body})
	if err := ch.Ack(first.Tag); err != nil {
		t.Fatal(err)
	}
	back := receive(t, ds, 5*time.Second)
	waited := time.Since(start)
	if string(back.Body) != "o-1" || back.Headers["x-attempt"] != int64(2) {
		t.Errorf("retried message = %q %v", back.Body, back.Headers)
	}
	if waited < ttl-10*time.Millisecond {
		t.Errorf("came back after %v, before the %v TTL", waited, ttl)
	}
	if _, ok := back.Headers["x-death"]; !ok {
		t.Errorf("no x-death header on a dead-lettered message: %v", back.Headers)
	}
	t.Logf("retry round trip %v (ttl %v)", waited, ttl)

	// Give up: publish to the dead-letter exchange with the reason.
	publishConfirmed(t, ch, broker.Message{Exchange: dlx, RoutingKey: "dead", Headers: map[string]any{"x-reason": "max attempts"}, Body: back.Body})
	if err := ch.Ack(back.Tag); err != nil {
		t.Fatal(err)
	}
	info, err := c.Inspect(dead)
	if err != nil || info.Ready != 1 {
		t.Errorf("dead queue: %+v, %v", info, err)
	}
}

// TestNackDeadLetters checks broker-side dead-lettering on nack without
// requeue (x-dead-letter-exchange on the work queue).
func TestNackDeadLetters(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	dlx, work, dead := uniqueName(t, "dlx"), uniqueName(t, "work"), uniqueName(t, "dead")
	declare(t, d, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: dlx, Kind: broker.Fanout}},
		Queues:    []broker.Queue{{Name: work, DeadLetterExchange: dlx}, {Name: dead}},
		Bindings:  []broker.Binding{{Exchange: dlx, Queue: dead}},
	})
	ch := testChannel(t, c)
	publishConfirmed(t, ch, broker.Message{RoutingKey: work, Body: []byte("poison")})
	ds, err := ch.Consume(work, "w", 1)
	if err != nil {
		t.Fatal(err)
	}
	m := receive(t, ds, 5*time.Second)
	if err := ch.Nack(m.Tag, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		info, err := c.Inspect(dead)
		return err == nil && info.Ready == 1
	})
}

// TestConfirmsCompleteWhenChannelDies publishes a window of messages and
// then one to a missing exchange, which makes RabbitMQ close the channel
// (404). Every confirmation must complete; the one the broker never
// confirmed completes with Acked false.
func TestConfirmsCompleteWhenChannelDies(t *testing.T) {
	t.Parallel()
	c, q := queueConn(t, "confirms")
	ch := testChannel(t, c)

	confirms := publishWindow(t, ch, q, 100, 1024)
	doomed, err := ch.Publish(context.Background(), broker.Message{Exchange: uniqueName(t, "missing"), RoutingKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// Keep publishing until the close reaches us: these either fail with
	// broker.ErrClosed or get a confirmation that completes.
	for i := 0; ; i++ {
		cf, err := ch.Publish(context.Background(), broker.Message{RoutingKey: q, Body: []byte("after")})
		if err != nil {
			if !errors.Is(err, broker.ErrClosed) {
				t.Fatalf("publish after channel error = %v, want broker.ErrClosed", err)
			}
			break
		}
		confirms = append(confirms, cf)
		if i > 1e6 {
			t.Fatal("channel never closed")
		}
	}

	select {
	case <-ch.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after publishing to a missing exchange")
	}
	var ae *amqp.Error
	if err := ch.Err(); !errors.As(err, &ae) || ae.Code != amqp.NotFound {
		t.Errorf("channel Err = %v, want 404", err)
	}
	acked := 0
	for i, cf := range append(confirms, doomed) {
		select {
		case <-cf.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("confirm %d still pending 5s after the channel closed", i)
		}
		if cf.Acked() {
			acked++
		}
	}
	if doomed.Acked() {
		t.Error("publish to a missing exchange was acked")
	}
	t.Logf("%d of %d confirms acked before the channel died", acked, len(confirms)+1)
}

// TestConfirmsCompleteOnConnectionClose closes the connection with a window
// of confirms outstanding.
func TestConfirmsCompleteOnConnectionClose(t *testing.T) {
	t.Parallel()
	c, q := queueConn(t, "confirms")
	ch := testChannel(t, c)
	confirms := publishWindow(t, ch, q, 200, 4096)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	for i, cf := range confirms {
		select {
		case <-cf.Done():
		default:
			t.Fatalf("confirm %d still pending after Close returned", i)
		}
		if cf.Acked() {
			acked++
		}
	}
	t.Logf("%d of %d confirms acked before Close", acked, len(confirms))
}

// TestCloseWithUnreadDeliveries checks that a consumer that stops reading
// does not leak the forwarding goroutine (goleak in TestMain would catch it).
func TestCloseWithUnreadDeliveries(t *testing.T) {
	t.Parallel()
	c, q := queueConn(t, "unread")
	ch, err := c.openChannel()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		publishConfirmed(t, ch, broker.Message{RoutingKey: q, Body: []byte("x")})
	}
	if _, err := ch.Consume(q, "unread", 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		info, err := c.Inspect(q)
		return err == nil && info.Ready == 0
	})
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := ch.Err(); err != nil {
		t.Errorf("Err after clean Close = %v", err)
	}
	if _, err := ch.Consume(q, "again", 1); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Consume after Close = %v, want broker.ErrClosed", err)
	}
	waitFor(t, func() bool {
		info, err := c.Inspect(q)
		return err == nil && info.Ready == 5
	})
}

func TestConsumeMissingQueue(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	ch := testChannel(t, c)
	_, err := ch.Consume(uniqueName(t, "missing"), "x", 1)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Consume(missing) = %v, want ErrNotFound", err)
	}
	select {
	case <-ch.Closed():
	case <-time.After(5 * time.Second):
		t.Error("channel not closed after consuming from a missing queue")
	}
}

// publishWindow publishes n persistent messages of size bytes to queue q
// without waiting, and returns their confirmations.
func publishWindow(t *testing.T, ch *Channel, q string, n, size int) []broker.Confirm {
	t.Helper()
	confirms := make([]broker.Confirm, 0, n)
	for range n {
		cf, err := ch.Publish(context.Background(), broker.Message{RoutingKey: q, Persistent: true, Body: make([]byte, size)})
		if err != nil {
			t.Fatal(err)
		}
		confirms = append(confirms, cf)
	}
	return confirms
}
