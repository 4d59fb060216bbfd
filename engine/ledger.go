package engine

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/google/uuid"

	"oms-sim/internal/telemetry"
)

// ledger counts every order's outcome from the lifecycle events: accepted,
// open, terminal by status, duplicated, orphaned, indeterminate and
// recovered, and the end-to-end latency of each accepted order that ends.
// Unlike the trace store it forgets no order that is still running, so its
// figures stay true however many orders are in flight; its memory is the
// orders in flight plus a bounded set of recently finished ids (for
// duplicates and for the status a replayed Idempotency-Key reports).
type ledger struct {
	mu sync.Mutex
	// live holds orders with something still to come: accepted and not
	// ended, or seen without their accepted event yet.
	live map[string]*liveOrder
	// pending lists orders that ended without (yet) an accepted event,
	// oldest first, to settle them once it can no longer be coming.
	pending []pendingOrder
	done    doneSet
	e2e     *telemetry.Latency
	// since is when the ledger began counting (start or reset): an order
	// first seen ending without an accepted event, but which began
	// before, is not an orphan (we were not listening when it started).
	since time.Time
	// grace is how long after an unaccepted order ends the ledger still
	// waits for its accepted event (from another process's stream, or
	// logged by the API after consumers already finished the order).
	grace time.Duration
	c     OrderCounts
}

// second counts an order's second terminal outcome: work done again after
// a crash or a lost connection (one of the two outcomes came from a
// redelivery nobody remembered) is redone; anything else is a duplicated
// order.
func (l *ledger) second(redone bool) {
	if redone {
		l.c.Redone++
	} else {
		l.c.Duplicated++
	}
}

// liveOrder is what the ledger keeps of an order in flight.
type liveOrder struct {
	redone    bool      // a terminal event of work done again was seen
	first     time.Time // earliest event time seen
	accepted  time.Time // zero until the accepted event
	terminal  time.Time // zero until a terminal event
	status    Status
	terminals int
	// indeterminate: the API answered 503 but the broker may have it.
	indeterminate bool
	// before: the order was live when the figures were reset; it is
	// followed to its end (so that it is not mistaken for an orphan) but
	// not counted.
	before bool
	// class is how an ended, unaccepted order is counted for now.
	class unacceptedClass
}

// unacceptedClass says under which count an order that ended without an
// accepted event stands.
type unacceptedClass uint8

const (
	classNone      unacceptedClass = iota
	classOrphaned                  // ran, the client was never told it was accepted
	classRecovered                 // the client was told 503 (indeterminate) and it ran
	classLate                      // began before the ledger listened
)

type pendingOrder struct {
	id string
	at time.Time // when it ended
}

// Defaults of the ledger.
const (
	// doneKept bounds the ids of finished orders the ledger remembers
	// (about 40 bytes each): a duplicate terminal event or a replayed
	// Idempotency-Key for an order older than that many is not matched.
	doneKept = 200_000
	// acceptGrace is how long an order that ended unaccepted waits for a
	// late accepted event before it is settled as orphaned or recovered.
	acceptGrace = 2 * time.Minute
)

func newLedger() *ledger {
	return &ledger{live: map[string]*liveOrder{}, done: newDoneSet(doneKept), e2e: telemetry.NewLatency(), grace: acceptGrace, since: time.Now()}
}

// apply folds one event into the figures.
func (l *ledger) apply(ev Event) {
	if ev.OrderID == "" {
		return
	}
	st, hasStatus := ev.Status()
	if !hasStatus && ev.Type != EventIndeterminate {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.live[ev.OrderID]
	if !ok {
		if prev, finished := l.done.get(ev.OrderID); finished {
			// The order has ended and been settled: only a second
			// outcome matters now.
			if hasStatus && st.Terminal() && st != StatusDeadLettered && !prev.before {
				l.second(ev.Redone || prev.redone)
			}
			return
		}
		o = &liveOrder{first: ev.Time, status: StatusPending}
		l.live[ev.OrderID] = o
	}
	if ev.Time.Before(o.first) {
		o.first = ev.Time
	}
	switch {
	case ev.Type == EventIndeterminate:
		if !o.indeterminate && o.accepted.IsZero() {
			o.indeterminate = true
			if !o.before {
				l.c.Indeterminate++
			}
			if o.class == classOrphaned { // it ran before the 503 was logged
				l.reclass(o, classRecovered)
			}
		}
	case ev.Type == EventAccepted:
		if !o.accepted.IsZero() {
			return
		}
		o.accepted = ev.Time
		if o.before {
			return
		}
		l.c.Accepted++
		if o.indeterminate {
			// A retry with the same key got it confirmed: it is an
			// accepted order like any other.
			o.indeterminate = false
			l.c.Indeterminate--
		}
		if o.terminals > 0 {
			l.reclass(o, classNone)
			l.settle(ev.OrderID, o)
		}
	case st.Terminal():
		o.terminals++
		wasRedone := o.redone
		o.redone = o.redone || ev.Redone
		if o.terminals > 1 {
			// A dead-lettered notice after the order already ended is
			// not a second outcome for the order; anything else is.
			if st != StatusDeadLettered && !o.before {
				l.second(ev.Redone || wasRedone)
			}
			return
		}
		o.status, o.terminal = st, ev.Time
		if o.accepted.IsZero() {
			l.pending = append(l.pending, pendingOrder{id: ev.OrderID, at: time.Now()})
		}
		switch {
		case o.before:
			l.finish(ev.OrderID, o)
		case !o.accepted.IsZero():
			l.settle(ev.OrderID, o)
		case o.indeterminate:
			l.reclass(o, classRecovered)
		case o.first.Before(l.since):
			l.reclass(o, classLate)
		default:
			l.reclass(o, classOrphaned)
		}
	default:
		if o.terminals == 0 && rank(st) > rank(o.status) {
			o.status = st
		}
	}
}

// reclass moves an unaccepted, ended order from one count to another.
func (l *ledger) reclass(o *liveOrder, to unacceptedClass) {
	l.count(o.class, -1)
	o.class = to
	l.count(to, 1)
}

func (l *ledger) count(c unacceptedClass, d int64) {
	switch c {
	case classOrphaned:
		l.c.Orphaned += d
	case classRecovered:
		l.c.Recovered += d
	}
}

// settle counts an accepted order's end and its latency, and forgets it.
func (l *ledger) settle(id string, o *liveOrder) {
	switch o.status {
	case StatusConfirmed:
		l.c.Confirmed++
	case StatusPaymentFailed:
		l.c.PaymentFailed++
	case StatusRefunded:
		l.c.Refunded++
	case StatusDeadLettered:
		l.c.DeadLettered++
	}
	l.e2e.Record(o.terminal.Sub(o.accepted))
	l.finish(id, o)
}

// finish moves an ended order from the live set to the finished ids.
func (l *ledger) finish(id string, o *liveOrder) {
	delete(l.live, id)
	l.done.put(id, doneOrder{status: o.status, before: o.before, redone: o.redone})
}

// sweep settles orders that ended unaccepted more than grace ago: their
// accepted event is not coming, so their count (orphaned, recovered or
// late) is final and the ledger forgets them.
func (l *ledger) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, p := range l.pending {
		if now.Sub(p.at) < l.grace {
			break
		}
		n++
		if o, ok := l.live[p.id]; ok && o.accepted.IsZero() {
			l.finish(p.id, o)
		}
	}
	if n > 0 {
		// Copy down so the backing array does not grow without bound.
		l.pending = append(l.pending[:0:0], l.pending[n:]...)
	}
}

// counts returns the running totals.
func (l *ledger) counts() OrderCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.c
	c.Open = c.Accepted - c.Confirmed - c.PaymentFailed - c.Refunded - c.DeadLettered
	return c
}

// status returns an order's status as far as the ledger knows it.
func (l *ledger) status(id string) (Status, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o, ok := l.live[id]; ok {
		return o.status, true
	}
	d, ok := l.done.get(id)
	return d.status, ok
}

// reset zeroes the figures. Orders running now are still followed, so
// that their ends are neither counted nor mistaken for orphans.
func (l *ledger) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, o := range l.live {
		o.before, o.class, o.indeterminate = true, classNone, false
		if o.terminals > 0 {
			l.finish(id, o) // a late accepted event is ignored
		}
	}
	l.pending = nil
	l.c = OrderCounts{}
	l.since = time.Now()
	l.e2e.Reset()
}

// doneOrder is what is remembered of a finished order.
type doneOrder struct {
	status Status
	before bool
	redone bool // it has a terminal event of work done again
}

// doneSet remembers the last max finished order ids, in a compact form:
// a UUID as its 16 bytes, any other id as a 64-bit hash (with its own
// marker byte, so it cannot meet a UUID's key).
type doneSet struct {
	m    map[[17]byte]doneOrder
	ring [][17]byte
	max  int
	next int
	seed maphash.Seed
}

func newDoneSet(max int) doneSet {
	return doneSet{m: map[[17]byte]doneOrder{}, max: max, seed: maphash.MakeSeed()}
}

func (d *doneSet) key(id string) [17]byte {
	var k [17]byte
	if u, err := uuid.Parse(id); err == nil && len(id) == 36 {
		copy(k[:16], u[:])
		return k
	}
	h := maphash.String(d.seed, id)
	for i := range 8 {
		k[i] = byte(h >> (8 * i))
	}
	k[16] = 1
	return k
}

func (d *doneSet) put(id string, o doneOrder) {
	k := d.key(id)
	if _, ok := d.m[k]; ok {
		d.m[k] = o
		return
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, k)
	} else {
		delete(d.m, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % d.max
	}
	d.m[k] = o
}

func (d *doneSet) get(id string) (doneOrder, bool) {
	o, ok := d.m[d.key(id)]
	return o, ok
}
