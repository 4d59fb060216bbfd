package loadgen

import (
	"context"

	"oms-sim/engine"
)

// Driver sends one order into the system under test.
type Driver interface {
	// Send places req and returns the order id the system gave it ("" if
	// it gives none, like the seed demo's API), or an error if the order
	// was not accepted.
	Send(ctx context.Context, req engine.OrderRequest) (orderID string, err error)
	// Name is "http" or "publish".
	Name() string
}

// Driver names.
const (
	DriverHTTP    = "http"
	DriverPublish = "publish"
)

// KeyedDriver is a Driver whose sends carry an idempotency key: sending
// the same order again with the same key makes it run at most once, so
// the runner may retry it.
type KeyedDriver interface {
	Driver
	// SendKeyed is Send with the caller's key; every retry of one order
	// passes the same key.
	SendKeyed(ctx context.Context, req engine.OrderRequest, key string) (orderID string, err error)
}

// Placer is the part of the engine the publish driver needs.
type Placer interface {
	PlaceOrder(ctx context.Context, req engine.OrderRequest) (engine.Order, error)
}

// PublishDriver publishes order.created straight to the exchange with
// confirms, through the engine's publisher: no HTTP in the way, to stress
// the broker and the consumers only.
type PublishDriver struct{ P Placer }

// Send implements Driver.
func (d PublishDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	o, err := d.P.PlaceOrder(ctx, req)
	return o.OrderID, err
}

// Name implements Driver.
func (PublishDriver) Name() string { return DriverPublish }
