package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"oms-sim/engine/broker"
)

// A stage hands each delivery to a chain built once when the stage is
// made: middleware around the route table's handlers, one concern a file.
// From the outside in:
//
//	retry     errors become a retry or a dead letter (retry.go)
//	dedupe    a redelivery repeats its remembered outcome (dedupe.go), or,
//	          with a shared state, inbox: the message is claimed in a
//	          transaction the effects join, and a redelivery repeats the
//	          outcome recorded there (inbox.go)
//	recover   a panic becomes a permanent error (recover.go)
//	decode    the body becomes an Order (here)
//	events    started and outcome events, the ok counts (emit.go)
//	service   the simulated service time (servicetime.go)
//	errors    the simulated transient errors (simerror.go)
//	dispatch  the route's handler, by routing key (here)
//
// The worker then publishes the outcome's one message and acks the
// delivery once it is confirmed (worker.go); that pipelined ack stays
// outside the chain. Nothing in the chain allocates a closure per message:
// each middleware closes over its stage once.

// inbound is one delivery on its way through a stage's chain. Each
// worker reuses one; the chain must not keep it.
type inbound struct {
	d broker.Delivery
	// key is the routing key the message was first published with (a
	// retry comes back with its retry queue's name).
	key     string
	arr     arrival
	attempt int64 // x-attempt; 0 when the publisher set none
	worker  string
	cfg     StageConfig // the stage's knobs when the delivery arrived
	order   Order       // set by decode
	// deferred: the inbox emits the outcome's event once its transaction
	// has committed (events leaves it in the outcome).
	deferred bool
	// The worker's generator, re-seeded for each message (drawSeed).
	rng *rand.Rand
	pcg *rand.PCG
}

// outcome is what handling a message produced: the one message to publish
// and the event saying what happened (none for a retry, a dead letter or a
// repeat, whose events are logged where they are decided).
type outcome struct {
	msg   broker.Message
	event Event // zero Type: none
}

// handleFunc is a stage's handling of a delivery from some point of its
// chain inwards. The whole chain fails only with errBusy: every other
// error has become a retry or a dead letter.
type handleFunc func(ctx context.Context, in *inbound) (outcome, error)

// middleware wraps a handleFunc in one concern.
type middleware func(next handleFunc) handleFunc

// chain wraps h in mws, the first outermost.
func chain(h handleFunc, mws ...middleware) handleFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// compose builds the stage's chain around its routes' handlers.
func (s *stage) compose(handlers map[string]Handler) handleFunc {
	dedupe := s.dedupe
	if s.deps.inbox != nil {
		dedupe = s.inbox
	}
	return chain(s.dispatch(handlers), s.retry, dedupe, s.recoverPanic, s.decode, s.events, s.serviceTime, s.simErrors)
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// errBusy means another worker is handling the same message right now.
var errBusy = errors.New("the same message is being handled by another worker")

// decode turns the body into the order; a body that is not an order is
// dead-lettered at once.
func (s *stage) decode(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		o, err := DecodeOrder(in.d.Body)
		if err != nil {
			return outcome{}, permanent{err}
		}
		if o.OrderID == "" {
			// A message from a publisher that knows only the seed's fields:
			// give it a stable id and make it an order of ours.
			o.OrderID = newOrderID()
			if o.CreatedAt.IsZero() {
				o.CreatedAt = time.Now()
			}
			ord := o
			s.deps.emit(Event{OrderID: o.OrderID, Type: EventAccepted, Stage: RoleAPI, Worker: in.worker, Time: o.CreatedAt,
				Detail: "published without order_id (seed format)", Order: &ord})
		}
		in.order = o
		return next(ctx, in)
	}
}

// dispatch calls the handler of the delivery's routing key and builds the
// message its outcome sends on.
func (s *stage) dispatch(handlers map[string]Handler) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		h, ok := handlers[in.key]
		if !ok {
			return outcome{}, permanent{fmt.Errorf("stage %s does not handle routing key %q", s.name, in.key)}
		}
		out, err := h(ctx, in.order)
		if err != nil {
			return outcome{}, err
		}
		ev := out.Event
		ev.OrderID, ev.Stage, ev.Worker, ev.Time = in.order.OrderID, s.name, in.worker, time.Now()
		return outcome{msg: s.deps.msgs.build(out.Order, out.Key), event: ev}, nil
	}
}
