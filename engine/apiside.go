package engine

import "sync/atomic"

// What the HTTP API (package engine/httpapi) needs of the engine beyond
// the methods every front end uses (PlaceOrder, Order, Orders, Inventory,
// UpdateStage, Snapshot, …): its answers counted into the snapshot, and
// the steps of placing an order under an Idempotency-Key (Admit, NewOrder,
// PublishOrder, OrderStatus).

// APIResult is one kind of answer of the order API, counted in
// Snapshot's api figures and oms_api_requests_total.
type APIResult uint8

// Answers of the order API. A shed order is counted by Admit.
const (
	APIAccepted      APIResult = iota // 202: an order accepted
	APIRejected                       // 4xx: an order refused for its request
	APIUnavailable                    // 503: the broker did not confirm (includes indeterminate)
	APIIndeterminate                  // 503: no confirm in time; the order may run
	APIUnauthorized                   // 401: a changing endpoint without the admin token
	APIUnroutable                     // 503: order.created came back unroutable (part of unavailable)
)

// apiCounters count the API's answers for snapshots and metrics.
type apiCounters struct {
	accepted, rejected, unavailable, indeterminate, unauthorized atomic.Int64
	unroutable                                                   atomic.Int64 // 503: order.created returned (returned.go)
}

// CountAPI counts one answer of the API.
func (e *Engine) CountAPI(r APIResult) {
	switch r {
	case APIAccepted:
		e.api.accepted.Add(1)
	case APIRejected:
		e.api.rejected.Add(1)
	case APIUnavailable:
		e.api.unavailable.Add(1)
	case APIIndeterminate:
		e.api.indeterminate.Add(1)
	case APIUnauthorized:
		e.api.unauthorized.Add(1)
	case APIUnroutable:
		e.api.unroutable.Add(1)
	}
}

// CheckStage reports whether this process runs stage name:
// ErrUnknownStage for a name the route table lacks, another error for a
// stage another process runs (--role).
func (e *Engine) CheckStage(name string) error {
	_, err := e.runningStage(name)
	return err
}

// HasOrderHistory reports whether OrderFromHistory can find orders beyond
// the recent-orders store (SetOrderHistory was called).
func (e *Engine) HasOrderHistory() bool { return e.history != nil }
