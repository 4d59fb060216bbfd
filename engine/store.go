package engine

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// maxEventsPerOrder bounds one order's timeline; a message retried forever
// must not grow memory without limit.
const maxEventsPerOrder = 32

// typicalEventsPerOrder is the length of a happy order's timeline on one
// process: accepted, three started, paid, stock.taken, confirmed.
const typicalEventsPerOrder = 8

// OrderRecord is what the store knows of one order.
type OrderRecord struct {
	Order
	Status     Status        `json:"status"`
	AcceptedAt time.Time     `json:"accepted_at"`
	TerminalAt time.Time     `json:"terminal_at,omitzero"`
	Latency    time.Duration `json:"latency_ns,omitempty"` // accept → terminal
	Events     []Event       `json:"events"`
	// Terminals counts terminal events; more than one is a duplicate.
	Terminals int `json:"-"`
	// accepted is set once the API's accepted event arrived (it can come
	// after the first stages' events: the broker confirms the publish to
	// the API while the consumers are already at work).
	accepted bool
}

// StageTime returns how long the order spent in stage on its first visit:
// from the last event of another stage (which handed it over) to the
// stage's last event before the order moved on — queue wait, service time
// and any retries together. It is 0 when the order has not been through
// the stage.
func (r *OrderRecord) StageTime(stage string) time.Duration {
	var handed, done time.Time
	for _, ev := range r.Events {
		if ev.Stage != stage {
			if !done.IsZero() {
				break
			}
			handed = ev.Time
			continue
		}
		if handed.IsZero() || ev.Time.Before(handed) {
			return 0
		}
		done = ev.Time
	}
	if done.IsZero() {
		return 0
	}
	return done.Sub(handed)
}

// OrderCounts are the running totals since start (or reset), kept by the
// ledger from every order's events: they are not bounded by the store.
type OrderCounts struct {
	Accepted int64 `json:"accepted"`
	Open     int64 `json:"open"` // accepted, no terminal status yet
	// Confirmed, PaymentFailed, Refunded and DeadLettered count accepted
	// orders by the terminal status they reached; together with Open they
	// add up to Accepted.
	Confirmed     int64 `json:"confirmed"`
	PaymentFailed int64 `json:"payment_failed"`
	Refunded      int64 `json:"refunded"`
	DeadLettered  int64 `json:"dead_lettered"`
	Duplicated    int64 `json:"duplicated"`
	// Redone counts orders that ended twice because a stage's work was
	// done again: its delivery came back after the process that had it
	// crashed or lost its connection before the ack (Event.Redone). The
	// work is at-least-once; the order is not a duplicate.
	Redone int64 `json:"redone"`
	// Orphaned counts orders that reached a terminal status without the
	// API ever accepting them to a client nor saying their outcome was
	// unknown (e.g. published straight to the exchange by someone else).
	Orphaned int64 `json:"orphaned"`
	// Indeterminate counts orders answered 503 after their message may
	// have reached the broker, and not accepted since (a retry with the
	// same Idempotency-Key accepts the same order). Recovered counts
	// those of them that ran anyway (Jepsen's "indeterminate → ok"):
	// they are never counted as an accepted order's outcome.
	Indeterminate int64 `json:"indeterminate"`
	Recovered     int64 `json:"recovered"`
}

// store keeps the most recent orders with their timelines, bounded to max
// orders: the oldest is forgotten when a new one arrives. It serves traces
// only; the figures come from the ledger, which forgets no running order.
type store struct {
	mu        sync.Mutex
	max       int
	timelines bool // keep each order's events
	orders    map[string]*OrderRecord
	ring      []string // insertion order, ring buffer of ids
	head      int
}

func newStore(max int) *store {
	return &store{max: max, timelines: true, orders: make(map[string]*OrderRecord, max), ring: make([]string, 0, max)}
}

// apply folds one event into the store.
func (s *store) apply(ev Event) {
	if ev.OrderID == "" {
		return // a run's own events (run.started, arrival): not an order's
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orders[ev.OrderID]
	if !ok {
		r = &OrderRecord{Order: Order{OrderID: ev.OrderID}, Status: StatusPending}
		s.insertLocked(r)
	}
	if o := ev.Order; o != nil {
		// Merge: events arrive in any order, and each knows only some
		// fields (the amount is known from payment on).
		if o.AmountCents != 0 {
			r.AmountCents = o.AmountCents
		}
		r.ProductID, r.Quantity, r.UserID, r.CreatedAt = o.ProductID, o.Quantity, o.UserID, o.CreatedAt
		if o.DrawKey != "" {
			r.DrawKey = o.DrawKey
		}
	}
	if s.timelines && len(r.Events) < maxEventsPerOrder {
		// In time order: events from other processes, and the API's
		// accepted (logged after the broker's confirm), can arrive late.
		if r.Events == nil {
			// One allocation for a whole ordinary timeline instead of
			// five as append doubles it (bench/RESULTS.md §22).
			r.Events = make([]Event, 0, typicalEventsPerOrder)
		}
		i := len(r.Events)
		for i > 0 && r.Events[i-1].Time.After(ev.Time) {
			i--
		}
		r.Events = slices.Insert(r.Events, i, ev)
	}
	st, ok := ev.Status()
	if !ok {
		return
	}
	switch {
	case ev.Type == EventAccepted:
		if r.accepted {
			return
		}
		r.accepted = true
		r.AcceptedAt = ev.Time
		if !r.Status.Terminal() {
			r.Status = st
			return
		}
		// The order finished before its accept was logged.
		r.Latency = r.TerminalAt.Sub(r.AcceptedAt)
	case st.Terminal():
		r.Terminals++
		if r.Terminals > 1 {
			return
		}
		r.Status = st
		r.TerminalAt = ev.Time
		if r.accepted {
			r.Latency = ev.Time.Sub(r.AcceptedAt)
		}
	default:
		if !r.Status.Terminal() && rank(st) > rank(r.Status) {
			r.Status = st
		}
	}
}

func rank(s Status) int {
	switch s {
	case StatusPending:
		return 0
	case StatusPaid:
		return 1
	case StatusReserved:
		return 2
	}
	return 3
}

func (s *store) insertLocked(r *OrderRecord) {
	if len(s.ring) < s.max {
		s.ring = append(s.ring, r.OrderID)
	} else {
		delete(s.orders, s.ring[s.head])
		s.ring[s.head] = r.OrderID
		s.head = (s.head + 1) % s.max
	}
	s.orders[r.OrderID] = r
}

// get returns a copy of one order.
func (s *store) get(id string) (OrderRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orders[id]
	if !ok {
		return OrderRecord{}, false
	}
	return copyRecord(r), true
}

func copyRecord(r *OrderRecord) OrderRecord {
	c := *r
	c.Events = append([]Event(nil), r.Events...)
	sort.SliceStable(c.Events, func(i, j int) bool { return c.Events[i].Time.Before(c.Events[j].Time) })
	return c
}

// OrderQuery selects orders from the store, newest first.
type OrderQuery struct {
	// Status keeps only orders in these statuses; empty keeps all. The
	// pseudo-status "failed" stands for every terminal status but
	// confirmed, "open" for every non-terminal one.
	Status []Status
	Limit  int
	// Offset skips that many matching orders (for paging).
	Offset int
	// Events includes each order's timeline when set.
	Events bool
}

// list returns matching orders, newest first, and how many match in all.
func (s *store) list(q OrderQuery) ([]OrderRecord, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	match := func(st Status) bool {
		if len(q.Status) == 0 {
			return true
		}
		for _, w := range q.Status {
			switch {
			case w == st,
				w == "failed" && st.Terminal() && st != StatusConfirmed,
				w == "open" && !st.Terminal():
				return true
			}
		}
		return false
	}
	var out []OrderRecord
	size := len(s.ring)
	all := len(q.Status) == 0
	total, seen := 0, 0
	if all {
		// Everything matches, so the total is known and the walk can stop
		// at the end of the page: workers wait on this lock.
		total = size
	}
	for i := 0; i < size; i++ {
		if all && q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		// newest first: the slot before head, walking back (head is 0
		// until the ring fills, so this also holds before)
		idx := (s.head - 1 - i + 2*size) % size
		r := s.orders[s.ring[idx]]
		if r == nil || !match(r.Status) {
			continue
		}
		seen++
		if !all {
			total++
		}
		if seen <= q.Offset || (q.Limit > 0 && len(out) >= q.Limit) {
			continue
		}
		var c OrderRecord
		if q.Events {
			c = copyRecord(r)
		} else {
			c = *r
			c.Events = nil
		}
		out = append(out, c)
	}
	return out, total
}

func (s *store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = make(map[string]*OrderRecord, s.max)
	s.ring = s.ring[:0]
	s.head = 0
}
