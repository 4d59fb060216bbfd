package engine

import (
	"context"
	"time"
)

// OrderHistory reads one order's events from a shared event log (the
// RabbitMQ stream): nil events and nil error when it has none. It must
// bound its own cost; the API gives it historyTimeout at most.
type OrderHistory func(ctx context.Context, id string) ([]Event, error)

// historyTimeout bounds a GET /api/orders/{id} that reads the event log.
const historyTimeout = 10 * time.Second

// SetOrderHistory lets GET /api/orders/{id} answer for an order this
// process's store does not hold — handled by other processes before it
// started, or forgotten past --recent-orders — from h (before Start).
func (e *Engine) SetOrderHistory(h OrderHistory) { e.history = h }

// OrderFromHistory builds an order's record from the event log, as the
// store would have from its events.
func (e *Engine) OrderFromHistory(ctx context.Context, id string) (OrderRecord, bool, error) {
	if e.history == nil {
		return OrderRecord{}, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	evs, err := e.history(ctx, id)
	if err != nil || len(evs) == 0 {
		return OrderRecord{}, false, err
	}
	s := newStore(1)
	for _, ev := range evs {
		s.apply(ev)
	}
	rec, ok := s.get(id)
	return rec, ok, nil
}
