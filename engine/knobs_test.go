package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// tapOrders binds a queue of the test's own to the orders exchange for
// every routing key and returns its deliveries: a copy of every message
// the engine publishes there.
func tapOrders(t *testing.T, d broker.Dialer, e *Engine) <-chan broker.Delivery {
	t.Helper()
	conn, err := d.Dial(context.Background(), e.cfg.Process+"-tap")
	if err != nil {
		t.Fatal(err)
	}
	q := e.names.Of("test.tap")
	if err := conn.Declare(context.Background(), broker.Topology{
		Queues:   []broker.Queue{{Name: q}},
		Bindings: []broker.Binding{{Exchange: e.names.Of(ExchangeOrders), Queue: q, Key: "#"}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Delete(q) // a cleanup: the queue is the test's own
		conn.Close()
	})
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q, "tap", 100)
	if err != nil {
		t.Fatal(err)
	}
	return deliveries
}

// TestBodySizeAndDeliveryMode places one order with each body size and
// delivery mode and checks every message the engine published for it — on
// the way through all three stages — on a queue of the test's own.
func TestBodySizeAndDeliveryMode(t *testing.T) {
	natural := len((&Order{OrderID: newOrderID(), ProductID: 1, Quantity: 2, UserID: 100, AmountCents: 99999, CreatedAt: time.Now().UTC()}).AppendJSON(nil))
	cases := []struct {
		name       string
		bodyBytes  int
		transient  bool
		wantExact  int // 0: the natural JSON, unpadded
		persistent bool
	}{
		{"natural persistent", 0, false, 0, true},
		{"1 KiB persistent", 1024, false, 1024, true},
		{"1 KiB transient", 1024, true, 1024, false},
		{"smaller than the order", 100, true, 0, false},
		{"over the API's 64 KiB", 70_000, false, 70_000, true},
	}
	for _, b := range brokers {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				d := b.dial(t)
				e := startEngine(t, d, func(c *Config) { c.BodyBytes, c.Transient = tc.bodyBytes, tc.transient })
				tap := tapOrders(t, d, e)
				o, err := e.PlaceOrder(context.Background(), OrderRequest{ProductID: 1, Quantity: 2, UserID: 100})
				if err != nil {
					t.Fatal(err)
				}
				waitStatus(t, e, o.OrderID, StatusConfirmed)
				want := []string{KeyOrderCreated, KeyPaymentSuccess, KeyInventoryUpdated, KeyEmailSent}
				seen := map[string]bool{}
				timeout := time.After(15 * time.Second)
				for len(seen) < len(want) {
					select {
					case m := <-tap:
						seen[m.RoutingKey] = true
						if tc.wantExact > 0 && len(m.Body) != tc.wantExact {
							t.Errorf("%s: body of %d bytes, want %d", m.RoutingKey, len(m.Body), tc.wantExact)
						}
						if tc.wantExact == 0 && (len(m.Body) > natural+40 || strings.Contains(string(m.Body), `"pad"`)) {
							t.Errorf("%s: body of %d bytes %q, want the natural JSON (about %d)", m.RoutingKey, len(m.Body), m.Body[:min(len(m.Body), 300)], natural)
						}
						if m.Persistent != tc.persistent {
							t.Errorf("%s: persistent %v, want %v", m.RoutingKey, m.Persistent, tc.persistent)
						}
						// A consumer that knows only the seed's three fields
						// reads past the pad.
						var seed struct {
							ProductID int `json:"product_id"`
							Quantity  int `json:"quantity"`
							UserID    int `json:"user_id"`
						}
						if err := json.Unmarshal(m.Body, &seed); err != nil || seed.ProductID != 1 || seed.Quantity != 2 || seed.UserID != 100 {
							t.Errorf("%s: the seed's fields read %+v, %v; want 1, 2, 100", m.RoutingKey, seed, err)
						}
						got, err := DecodeOrder(m.Body)
						if err != nil || got.OrderID != o.OrderID || got.ProductID != 1 || got.Quantity != 2 || got.UserID != 100 {
							t.Errorf("%s: DecodeOrder = %+v, %v; want order %s", m.RoutingKey, got, err, o.OrderID)
						}
					case <-timeout:
						t.Fatalf("saw %v of the order's messages, want %v", seen, want)
					}
				}
			})
		}
	}
}

// TestPerWorkerConnectionsFollowWorkers scales a stage in the per-worker
// layout under load: a connection opens for each new worker and closes
// with each stopped one, and no order is lost on the way.
func TestPerWorkerConnectionsFollowWorkers(t *testing.T) {
	d := rabbitDialer(t)
	e := startEngine(t, d, func(c *Config) { c.Connections = ConnPerWorker })
	payment := func() int {
		n := 0
		for _, name := range connNames(t, e.cfg.Process) {
			if strings.HasPrefix(name, e.cfg.Process+"/"+StagePayment+"/") {
				n++
			}
		}
		return n
	}
	accepted, stopLoad := runLoad(e, 200)
	for _, workers := range []int{4, 1, 3} {
		if _, err := e.UpdateStage("test", StagePayment, StagePatch{Workers: &workers}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, fmt.Sprintf("%d payment connections", workers), func() bool { return payment() == workers })
		waitFor(t, 10*time.Second, "every connection up", e.Connected)
	}
	stopLoad()
	c := waitSettled(t, e, 30*time.Second)
	if c.Accepted != accepted.Load() || c.Accepted == 0 || c.Confirmed != c.Accepted || c.Duplicated != 0 {
		t.Fatalf("counts %+v, load accepted %d: want every accepted order confirmed once", c, accepted.Load())
	}
}
