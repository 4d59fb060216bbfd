package brokertest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
)

// VerifyTestMain runs a package's tests and fails the package if one
// leaves a goroutine of ours behind. Toxiproxy's own are not ours: a
// toxic's pipe and a link's reader and writer live on after a fault test
// ends (a latency toxic's until its delayed data has drained;
// ReplaceProxy), whatever the test does.
func VerifyTestMain(m *testing.M) {
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

// WaitFor polls cond until it holds, failing the test if timeout passes
// first; what names the awaited condition in the failure.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Unbind unbinds queue from exchange for key on the test broker (as an
// operator deleting a binding would) and returns a func that binds it
// again. Its connection closes at cleanup.
func Unbind(t testing.TB, queue, exchange, key string) (rebind func()) {
	t.Helper()
	conn, err := amqp.Dial(URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueUnbind(queue, key, exchange, nil); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := ch.QueueBind(queue, key, exchange, false, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// Channel opens a channel on its own connection to d, for a test's own
// publishing; both close at cleanup.
func Channel(t testing.TB, d broker.Dialer, name string) broker.Channel {
	t.Helper()
	conn, err := d.Dial(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// SafeName is t's name with every rune but ASCII letters and digits made
// '-', cut to 40 bytes: a piece for queue, exchange and stream names.
func SafeName(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return name
}

// Concurrently calls do(i) for every i in [0, n), conc calls at a time,
// and fails the test, naming what, on any error once all have returned.
func Concurrently(t testing.TB, n, conc int, what string, do func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, conc)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := do(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%s: %v", what, err)
	}
}

// Started runs start, failing the test on an error, and at cleanup runs
// stop and then, when d is the real RabbitMQ, deletes the topology topo
// names then: the start and cleanup of an engine under test.
func Started(t testing.TB, d broker.Dialer, start func(context.Context) error, stop func() error, topo func() broker.Topology) {
	t.Helper()
	if err := start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		if _, ok := d.(*amqpbroker.Dialer); ok {
			Delete(t, topo())
		}
	})
}
