package engine

import (
	"sync"
	"time"
)

// Event types: one per step of an order's life (DESIGN.md §5).
const (
	EventAccepted = "accepted"
	// A stage's worker took the order off its queue (Detail: how long it
	// waited there, and the attempt if a retry): StartedEvent(stage).
	EventPaymentStarted   = "payment.started"
	EventInventoryStarted = "inventory.started"
	EventEmailStarted     = "email.started"
	EventPaid             = "paid"
	EventDeclined         = "declined"
	EventRetried          = "retried"
	EventStockTaken       = "stock.taken"
	EventOutOfStock       = "out_of_stock"
	EventRefunded         = "refunded"
	EventConfirmed        = "confirmed"  // confirmation email sent: the happy end
	EventEmailSent        = "email.sent" // a declined or refund notice sent
	EventDeadLettered     = "dead_lettered"
	EventRedelivered      = "redelivered" // a duplicate delivery answered from memory or the inbox
	// The API told its client 503 after the order's message may have
	// reached the broker (the confirm did not come in time, or the
	// channel died before it): the order may still run. If it does, it
	// is counted "recovered", never as an accepted order's outcome.
	EventIndeterminate = "indeterminate"

	// A load generator's run: its start (Detail: the scenario), every
	// arrival (Time: the intended send time; Order: what was sent) and
	// its end (Detail: the audit). They carry RunID and no OrderID.
	EventRunStarted = "run.started"
	// EventRunScenario carries the scenario file a recorded run ran
	// (Detail: JSON {file, yaml}), for replay.
	EventRunScenario = "run.scenario"
	EventArrival     = "arrival"
	EventRunFinished = "run.finished"
)

// Event is one lifecycle event of one order.
type Event struct {
	RunID   string    `json:"run_id,omitempty"`
	OrderID string    `json:"order_id"`
	Type    string    `json:"event"`
	Stage   string    `json:"stage,omitempty"`
	Worker  string    `json:"worker,omitempty"`
	Process string    `json:"process,omitempty"`
	Time    time.Time `json:"time"`
	Detail  string    `json:"detail,omitempty"`
	// WaitUS is how long a started event's message waited in its queue;
	// ServiceUS how long an outcome (paid, retried, …) took its worker
	// from taking the message; in µs, 0 when unknown. A process builds the
	// figures of stages it does not run from other processes' events.
	WaitUS    int64 `json:"queue_wait_us,omitempty"`
	ServiceUS int64 `json:"service_us,omitempty"`
	// Redone marks an outcome of work that may have been done before:
	// the worker got a redelivery it had no memory of (the process that
	// had it crashed or lost its connection before acking), or a message
	// published by such work (header x-redone).
	Redone bool `json:"redone,omitempty"`
	// Order carries the order's fields on EventAccepted, and the amount
	// charged on EventPaid.
	Order *Order `json:"order,omitempty"`
}

// Status returns the status an event moves its order to, if any.
func (ev Event) Status() (Status, bool) {
	switch ev.Type {
	case EventAccepted:
		return StatusPending, true
	case EventPaid:
		return StatusPaid, true
	case EventStockTaken:
		return StatusReserved, true
	case EventConfirmed:
		return StatusConfirmed, true
	case EventDeclined:
		return StatusPaymentFailed, true
	case EventRefunded:
		return StatusRefunded, true
	case EventDeadLettered:
		return StatusDeadLettered, true
	}
	return "", false
}

// EventLog is where lifecycle events go. The trace store and anyone
// subscribed read them back from it, so a log shared between processes
// (a RabbitMQ stream) shows one pipeline however it is spread.
type EventLog interface {
	// Append records ev. It must not block the caller for long and must
	// never fail an order: a log that cannot keep up counts what it drops.
	Append(ev Event)
	// Subscribe calls fn for every event appended from now on, in order,
	// until cancel is called.
	Subscribe(fn func(Event)) (cancel func())
	// Close releases the log.
	Close() error
}

// DurableLog is an EventLog that stores events outside the process (the
// RabbitMQ stream) and can say when they are stored. A worker acks a
// delivery only once the events of its handling are stored: a process
// killed at any moment then never leaves the audit without the record
// of work it acked — the delivery is either acked with its events kept,
// or redelivered and done again (Event.Redone). This costs each delivery
// the stream's confirm round trip before its ack (bench/RESULTS.md §22).
type DurableLog interface {
	EventLog
	// Durable returns a channel closed once every event appended so far
	// is stored, or nil when nothing waits to be.
	Durable() <-chan struct{}
}

// MemoryLog is an in-process EventLog: Append delivers synchronously to
// every subscriber.
type MemoryLog struct {
	mu   sync.RWMutex
	subs map[int]func(Event)
	next int
}

var _ EventLog = (*MemoryLog)(nil)

// NewMemoryLog returns an empty in-process log.
func NewMemoryLog() *MemoryLog { return &MemoryLog{subs: map[int]func(Event){}} }

// Append hands ev to every subscriber.
func (l *MemoryLog) Append(ev Event) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, fn := range l.subs {
		fn(ev)
	}
}

// Subscribe registers fn.
func (l *MemoryLog) Subscribe(fn func(Event)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.next
	l.next++
	l.subs[id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs, id)
	}
}

// Close does nothing; it exists to satisfy EventLog.
func (l *MemoryLog) Close() error { return nil }
