package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/brokertest"
)

// TestReturnedMessageGoesThroughTheRetryLadder deletes the binding that
// takes payment.success to the inventory queue under a running pipeline.
// Every payment.success a payment worker publishes then comes back from
// the broker (mandatory, no route): it must not count as delivered. Each
// order takes its retries, with its attempt count, and ends dead-lettered
// with a reason that says the message was returned — none confirmed, none
// dropped, none left open. Bound again, orders complete.
func TestReturnedMessageGoesThroughTheRetryLadder(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), func(c *Config) { c.MaxAttempts = 3 })
	rebind := brokertest.Unbind(t, e.names.Queue(StageInventory), e.names.Of(ExchangeOrders), KeyPaymentSuccess)

	const n = 20
	recs := placeDeadLettered(t, e, n, "payment.success unroutable")
	if len(recs) == 0 {
		t.Fatal("no order in the store")
	}
	if d := lastDetail(recs[0], EventDeadLettered); !strings.Contains(d, "gave up after 3 attempts") || !strings.Contains(d, "returned") || !strings.Contains(d, "NO_ROUTE") {
		t.Errorf("dead-letter reason %q: want it to say the broker returned payment.success (NO_ROUTE) after 3 attempts", d)
	}

	rebind()
	placeConfirmed(t, e, n, "bound again")
}

// TestReturnedOrderIsRefused deletes the binding that takes order.created
// to the payment queue: the API's publish comes back, so the order was
// queued nowhere. PlaceOrder must say so (ErrUnroutable, not
// indeterminate: nothing can run), and no order may be accepted or left
// open. Bound again, orders are accepted. (The API's 503 for it:
// engine/httpapi's TestReturnedOrderAnswers503.)
func TestReturnedOrderIsRefused(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), nil)
	rebind := brokertest.Unbind(t, e.names.Queue(StagePayment), e.names.Of(ExchangeOrders), KeyOrderCreated)
	before := e.Counts()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.PlaceOrder(ctx, OrderRequest{ProductID: 1, Quantity: 1, UserID: 1})
	if !errors.Is(err, ErrUnroutable) || errors.Is(err, ErrIndeterminate) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("PlaceOrder with order.created unroutable = %v; want ErrUnroutable (an ErrUnavailable, not indeterminate)", err)
	}

	if c := e.Counts(); c.Accepted != before.Accepted || c.Open != 0 {
		t.Errorf("counts %+v: want nothing accepted, nothing open", c)
	}

	rebind()
	if _, err := e.PlaceOrder(ctx, OrderRequest{ProductID: 1, Quantity: 1, UserID: 3}); err != nil {
		t.Errorf("PlaceOrder bound again: %v", err)
	}
}
