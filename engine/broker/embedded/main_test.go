package embedded

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"oms-sim/engine/broker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds every wait for something that should happen; tests
// that expect nothing use quietPeriod instead.
const (
	waitTimeout = 2 * time.Second
	quietPeriod = 50 * time.Millisecond
)

// testBroker returns a fresh broker and a connection to it, both closed when
// the test ends.
func testBroker(t testing.TB) (*Broker, broker.Conn) {
	t.Helper()
	b := New()
	t.Cleanup(func() { _ = b.Close() })
	c, err := b.Dial(context.Background(), t.Name())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return b, c
}

func declare(t testing.TB, c broker.Conn, topo broker.Topology) {
	t.Helper()
	if err := c.Declare(context.Background(), topo); err != nil {
		t.Fatalf("declare: %v", err)
	}
}

func openChannel(t testing.TB, c broker.Conn) broker.Channel {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	return ch
}

func publish(t testing.TB, ch broker.Channel, exchange, key, body string) {
	t.Helper()
	cf, err := ch.Publish(context.Background(), broker.Message{Exchange: exchange, RoutingKey: key, Body: []byte(body)})
	if err != nil {
		t.Fatalf("publish %s/%s: %v", exchange, key, err)
	}
	select {
	case <-cf.Done():
	default:
		t.Fatalf("publish %s/%s: confirm not done on return", exchange, key)
	}
	if !cf.Acked() {
		t.Fatalf("publish %s/%s: nacked", exchange, key)
	}
}

func consume(t testing.TB, ch broker.Channel, queue, tag string, prefetch int) <-chan broker.Delivery {
	t.Helper()
	ds, err := ch.Consume(queue, tag, prefetch)
	if err != nil {
		t.Fatalf("consume %s: %v", queue, err)
	}
	return ds
}

func recv(t testing.TB, ds <-chan broker.Delivery) broker.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatal("delivery channel closed")
		}
		return d
	case <-time.After(waitTimeout):
		t.Fatal("no delivery")
	}
	return broker.Delivery{}
}

func recvNothing(t testing.TB, ds <-chan broker.Delivery) {
	t.Helper()
	select {
	case d, ok := <-ds:
		if ok {
			t.Fatalf("unexpected delivery %q", d.Body)
		}
	case <-time.After(quietPeriod):
	}
}

func recvClosed(t testing.TB, ds <-chan broker.Delivery) {
	t.Helper()
	select {
	case d, ok := <-ds:
		if ok {
			t.Fatalf("expected closed delivery channel, got %q", d.Body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("delivery channel not closed")
	}
}

func waitClosed(t testing.TB, what string, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitTimeout):
		t.Fatalf("%s not closed", what)
	}
}

func ack(t testing.TB, ch broker.Channel, d broker.Delivery) {
	t.Helper()
	if err := ch.Ack(d.Tag); err != nil {
		t.Fatalf("ack %d: %v", d.Tag, err)
	}
}

func ready(t testing.TB, c broker.Conn, queue string) int {
	t.Helper()
	info, err := c.Inspect(queue)
	if err != nil {
		t.Fatalf("inspect %s: %v", queue, err)
	}
	return info.Ready
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// oneQueue declares exchange ex of kind and queue q bound with key.
func oneQueue(ex, kind, q, key string) broker.Topology {
	return broker.Topology{
		Exchanges: []broker.Exchange{{Name: ex, Kind: kind}},
		Queues:    []broker.Queue{{Name: q}},
		Bindings:  []broker.Binding{{Exchange: ex, Queue: q, Key: key}},
	}
}
