package amqpbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"oms-sim/engine/broker"
)

// TestMain checks that no test leaves a goroutine behind: ours (watchers,
// forwarders) or amqp091's (reader, heartbeater), which all end when the
// connection is closed. goleak retries for a while before failing, which
// covers amqp091's goroutines that exit just after Close returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const defaultTestURL = "amqp://guest:guest@localhost:5672/"

func testURL() string {
	if u := os.Getenv("OMS_AMQP_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

var (
	pingOnce sync.Once
	pingErr  error
)

// testDialer returns a Dialer for the test broker. It skips the test when
// no broker answers, or fails it when OMS_REQUIRE_BROKER=1 (CI).
func testDialer(t testing.TB) *Dialer {
	t.Helper()
	url := testURL()
	pingOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pingErr = Ping(ctx, url)
	})
	if pingErr != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no RabbitMQ at %s: %v (OMS_REQUIRE_BROKER=1)", Redact(url), pingErr)
		}
		t.Skipf("no RabbitMQ at %s: %v", Redact(url), pingErr)
	}
	return New(url)
}

// testConn dials a connection named after the test, closed at cleanup.
func testConn(t testing.TB, d *Dialer) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.dial(ctx, "test "+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// testChannel opens a confirm-mode channel, closed at cleanup.
func testChannel(t testing.TB, c *Conn) *Channel {
	t.Helper()
	ch, err := c.openChannel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ch.Close(); err != nil {
			t.Errorf("close channel: %v", err)
		}
	})
	return ch
}

// uniqueName returns "test.<random>.<suffix>", unique across test runs and
// concurrent engineers sharing the broker.
func uniqueName(t testing.TB, suffix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "test." + hex.EncodeToString(b[:]) + "." + suffix
}

// queueConn dials its own connection and declares on it a fresh classic
// queue named after prefix, deleted at cleanup.
func queueConn(t testing.TB, prefix string) (*Conn, string) {
	t.Helper()
	d := testDialer(t)
	c := testConn(t, d)
	q := uniqueName(t, prefix)
	declare(t, d, c, broker.Topology{Queues: []broker.Queue{{Name: q}}})
	return c, q
}

// declare declares topo on c and deletes its queues and exchanges at
// cleanup, over a fresh connection so that tests that kill c still clean up.
func declare(t testing.TB, d *Dialer, c *Conn, topo broker.Topology) {
	t.Helper()
	t.Cleanup(func() { deleteTopology(t, d, topo) })
	if err := c.Declare(context.Background(), topo); err != nil {
		t.Fatal(err)
	}
}

func deleteTopology(t testing.TB, d *Dialer, topo broker.Topology) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.dial(ctx, "test cleanup")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}()
	for _, q := range topo.Queues {
		if err := c.Delete(q.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, x := range topo.Exchanges {
		if err := c.deleteExchange(x.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// receive returns the next delivery or fails the test after timeout.
func receive(t testing.TB, ds <-chan broker.Delivery, timeout time.Duration) broker.Delivery {
	t.Helper()
	var (
		d  broker.Delivery
		ok bool
	)
	select {
	case d, ok = <-ds:
		if !ok {
			t.Fatal("delivery channel closed")
		}
	case <-time.After(timeout):
		t.Fatalf("no delivery within %v", timeout)
	}
	return d
}

// publishConfirmed publishes msg and waits for its confirmation.
func publishConfirmed(t testing.TB, ch *Channel, msg broker.Message) {
	t.Helper()
	cf, err := ch.Publish(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-cf.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no confirm within 5s")
	}
	if !cf.Acked() {
		t.Fatalf("publish %q: nacked", msg.RoutingKey)
	}
}
