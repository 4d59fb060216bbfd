package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Route is one entry of the route table: a message published to the
// orders exchange with routing key Key goes to Stage's work queue, where
// the handler New builds decides what becomes of it.
//
// The table is the pipeline's one description. Everything else that names
// a stage or a key is derived from it: the topology's bindings
// (Routes.Topology), the stages and their order (Routes.Stages), the
// events of a worker taking an order (StartedEvent), the queues the
// monitor and the dashboard watch (Routes.Queues), and which stage's
// figures another process's events feed (applyRemote). A fourth stage is
// one more entry here and one handler file.
type Route struct {
	Stage string
	Key   string
	// New builds the route's handler, once per stage, from what the
	// engine gives a handler.
	New func(Env) Handler
}

// Handler is the domain logic of one route: given the order a message
// carries, the one message to send on and what happened. An error is
// retried (through the retry queues, up to Config.MaxAttempts) unless it
// is Permanent, when the message is dead-lettered at once; a panic is
// dead-lettered with the panic as its reason.
//
// Around it the stage's middleware deduplicates, simulates service time
// and transient errors, logs the events and turns errors into retries and
// dead letters, so a handler runs once per message id: charging and
// taking stock there happen at most once per order. ctx does not end
// while the worker drains what it holds.
type Handler func(ctx context.Context, o Order) (Outcome, error)

// Outcome is what a handler decided: the routing key of the one message
// to send on and the order it carries, and the event saying what
// happened. The engine fills in the event's order id, stage, worker, time
// and service time.
type Outcome struct {
	Key   string
	Order Order
	Event Event
}

// Next is the usual outcome: send o on with key, and log an event of type
// typ with detail.
func Next(o Order, key, typ, detail string) Outcome {
	return Outcome{Key: key, Order: o, Event: Event{Type: typ, Detail: detail}}
}

// Permanent marks an error that retrying cannot fix: the message is
// dead-lettered at once with err as its reason.
func Permanent(err error) error { return permanent{err} }

// Env is what the engine gives a route's handler: the route it serves,
// the run's seed, the stage's knobs as they are now, and the domain state
// (stock, charges and the email sink).
type Env struct {
	Stage, Key string
	Seed       uint64
	// Knobs returns the stage's knobs now (cheap: no lock).
	Knobs func() StageConfig
	Sink  Sink
	state State
}

// Routes is a route table, in pipeline order.
type Routes []Route

// StandardRoutes is the pipeline of DESIGN.md §3: payment, inventory and
// email chained on order.created, payment.success and inventory.updated,
// with the decline, out-of-stock and refund branches.
func StandardRoutes() Routes {
	return Routes{
		{Stage: StagePayment, Key: KeyOrderCreated, New: newCharge},
		{Stage: StagePayment, Key: KeyInventoryFailed, New: newRefund},
		{Stage: StageInventory, Key: KeyPaymentSuccess, New: newTakeStock},
		{Stage: StageEmail, Key: KeyPaymentFailed, New: newEmail},
		{Stage: StageEmail, Key: KeyInventoryUpdated, New: newEmail},
		{Stage: StageEmail, Key: KeyPaymentRefunded, New: newEmail},
	}
}

// StageNames lists the standard pipeline's stages in pipeline order.
var StageNames = StandardRoutes().Stages()

// Stages returns the table's stages in the order they first appear.
func (r Routes) Stages() []string {
	var out []string
	for _, rt := range r {
		if !slices.Contains(out, rt.Stage) {
			out = append(out, rt.Stage)
		}
	}
	return out
}

// Has reports whether stage is one of the table's stages.
func (r Routes) Has(stage string) bool {
	return slices.ContainsFunc(r, func(rt Route) bool { return rt.Stage == stage })
}

// Keys returns the routing keys bound to a stage's queue.
func (r Routes) Keys(stage string) []string {
	var out []string
	for _, rt := range r {
		if rt.Stage == stage {
			out = append(out, rt.Key)
		}
	}
	return out
}

// Queues returns the queues a pipeline on this table is watched by: each
// stage's work queue in pipeline order, then the dead letters (DESIGN.md
// consumed returns the routing keys some stage of the table consumes: a
// message published with one of them has a queue to go to.
func (r Routes) consumed() map[string]bool {
	keys := make(map[string]bool, len(r))
	for _, rt := range r {
		keys[rt.Key] = true
	}
	return keys
}

// §3 names, without a namespace).
func (r Routes) Queues() []string {
	var out []string
	for _, s := range r.Stages() {
		out = append(out, StageQueue(s))
	}
	return append(out, QueueDead)
}

// StartedEvent names the event of a stage's worker taking an order:
// "payment.started" (EventPaymentStarted) and so on.
func StartedEvent(stage string) string { return stage + ".started" }

// Validate reports every problem with the table: a route without a
// stage, key or handler, a key routed twice (a topic exchange would copy
// the message to both queues), a stage whose name would not make a queue.
func (r Routes) Validate() error {
	var errs []error
	if len(r) == 0 {
		errs = append(errs, errors.New("routes: the table is empty"))
	}
	seen := map[string]string{}
	for i, rt := range r {
		switch {
		case rt.Stage == "" || rt.Key == "" || rt.New == nil:
			errs = append(errs, fmt.Errorf("routes[%d]: needs a stage, a key and a handler, got stage %q key %q", i, rt.Stage, rt.Key))
		case rt.Stage == RoleAPI || rt.Stage == RoleNone || strings.ContainsAny(rt.Stage, ". *#"):
			errs = append(errs, fmt.Errorf("routes[%d]: stage %q: a stage name may not be api or none, nor hold '.', ' ', '*' or '#'", i, rt.Stage))
		case seen[rt.Key] != "":
			errs = append(errs, fmt.Errorf("routes[%d]: key %q is routed to %s already", i, rt.Key, seen[rt.Key]))
		default:
			seen[rt.Key] = rt.Stage
		}
	}
	return errors.Join(errs...)
}
