package engine

import (
	"context"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// TestRepeatedOutcomeIsMarkedRedone delivers the same order.created twice
// to one process (a redelivery after a lost ack): the second is answered
// from memory by publishing payment.success again. That second copy may
// reach the next stage in another process, which has no memory of the
// first and does its work again: it must carry x-redone, so that the
// audit counts the order redone, not duplicated. A tap queue bound to
// payment.success sees both copies.
func TestRepeatedOutcomeIsMarkedRedone(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			d := b.dial(t)
			e := startEngine(t, d, nil)
			conn, err := d.Dial(context.Background(), "test-tap")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			tap := e.names.Of("test.tap")
			if err := conn.Declare(context.Background(), broker.Topology{
				Queues:   []broker.Queue{{Name: tap}},
				Bindings: []broker.Binding{{Exchange: e.names.Of(ExchangeOrders), Queue: tap, Key: KeyPaymentSuccess}},
			}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Delete(tap) })
			tapCh, err := conn.Channel()
			if err != nil {
				t.Fatal(err)
			}
			copies, err := tapCh.Consume(tap, "tap", 10)
			if err != nil {
				t.Fatal(err)
			}

			ch := testChannel(t, d, "test-repeat")
			msg := e.msgs.build(Order{OrderID: "rep-1", ProductID: 1, Quantity: 1, UserID: 5, CreatedAt: time.Now()}, KeyOrderCreated)
			for range 2 {
				c, err := ch.Publish(context.Background(), msg)
				if err != nil {
					t.Fatal(err)
				}
				<-c.Done()
			}
			var redone []bool
			for len(redone) < 2 {
				select {
				case m := <-copies:
					r, _ := m.Headers[HeaderRedone].(bool)
					redone = append(redone, r)
					_ = tapCh.Ack(m.Tag)
				case <-time.After(10 * time.Second):
					t.Fatalf("the tap saw %d copies of payment.success, want 2", len(redone))
				}
			}
			// Two workers publish them, so either may arrive first.
			if redone[0] == redone[1] {
				t.Errorf("x-redone of the two payment.success copies: %v; want the work's copy unmarked and the repeat's marked", redone)
			}
		})
	}
}
