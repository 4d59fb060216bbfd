package loadgen

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
)

// Audit is the zero-loss check at the end of a run: every accepted order
// must reach exactly one terminal status.
type Audit struct {
	Accepted      int64 `json:"accepted"`
	Confirmed     int64 `json:"confirmed"`
	PaymentFailed int64 `json:"payment_failed"`
	Refunded      int64 `json:"refunded"`
	DeadLettered  int64 `json:"dead_lettered"`
	// Lost orders were accepted and reached no terminal status before the
	// drain ended.
	Lost int64 `json:"lost"`
	// Duplicated orders reached more than one terminal status or were
	// charged more than once.
	Duplicated int64 `json:"duplicated"`
	// Untracked orders were accepted without an id the audit could follow
	// (an external API that returns none): they are not audited.
	Untracked int64 `json:"untracked"`
	// Recovered orders were answered indeterminate (the broker did not
	// confirm in time), never accepted to the driver, and reached a
	// terminal status anyway: the broker had them. They are not in
	// Accepted; an order a retry got accepted is simply accepted.
	Recovered int64 `json:"recovered"`
	// Orphaned orders reached a terminal status during the run without
	// ever being accepted to the driver or answered indeterminate. On a
	// pipeline shared with another load source they may be its orders.
	Orphaned int64 `json:"orphaned"`
	// Redone orders ended more than once, or were charged more than once,
	// only because a stage's work was done again: its delivery came back
	// after the process that had it crashed or lost its connection before
	// acking (engine.Event.Redone). At-least-once work, not a duplicated
	// order; they are counted by their first outcome like any other.
	Redone int64 `json:"redone"`
	// LostIDs, DuplicatedIDs and RedoneIDs name up to 20 orders each.
	LostIDs       []string `json:"lost_ids,omitempty"`
	DuplicatedIDs []string `json:"duplicated_ids,omitempty"`
	RedoneIDs     []string `json:"redone_ids,omitempty"`
	// Ledger checks what the orders did to money and stock: double
	// charges, refunds without a failure, charges without an order,
	// stock conserved.
	Ledger Ledger `json:"ledger"`
}

// tracker follows every order a run placed, through the engine's events.
type tracker struct {
	mu     sync.Mutex
	orders map[string]*tracked
	// early holds events for ids the driver has not reported yet: the
	// pipeline can finish an order before the API's answer arrives.
	early map[string][]engine.Event
	// indeterminate holds ids the API answered indeterminate for that
	// the driver has not (yet) had accepted.
	indeterminate map[string]bool
	untracked     int64
	ledger        ledgerTally
	unfinished    int64                   // tracked orders without a terminal status yet
	e2e           *hdrhistogram.Histogram // µs, intended send → terminal
}

type tracked struct {
	intended  time.Time
	status    engine.Status
	terminals int
	charges   int
	// Of terminals and charges, those from work done again (Redone).
	redoneTerminals, redoneCharges int
	ledger                         orderLedger
}

// duplicated: the order ended or was charged twice by work that was not
// done again after a crash.
func (o *tracked) duplicated() bool {
	return o.terminals-o.redoneTerminals > 1 || o.charges-o.redoneCharges > 1
}

// redone: it ended or was charged twice, explained by work done again.
func (o *tracked) redone() bool {
	return !o.duplicated() && (o.terminals > 1 || o.charges > 1)
}

func newTracker() *tracker {
	return &tracker{
		orders:        map[string]*tracked{},
		early:         map[string][]engine.Event{},
		indeterminate: map[string]bool{},
		ledger:        newLedgerTally(),
		e2e:           telemetry.NewHistogram(),
	}
}

// onEvent is the engine subscription callback.
func (t *tracker) onEvent(ev engine.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ledger.event(ev)
	o, ok := t.orders[ev.OrderID]
	if !ok {
		if ev.OrderID == "" {
			return
		}
		if ev.Type == engine.EventIndeterminate {
			t.indeterminate[ev.OrderID] = true
			return
		}
		if st, term := ev.Status(); (term && st.Terminal()) || ev.Type == engine.EventPaid || ledgerEvent(ev.Type) {
			ev.Order = nil // not needed; kept small
			t.early[ev.OrderID] = append(t.early[ev.OrderID], ev)
		}
		return
	}
	t.applyLocked(o, ev)
}

func (t *tracker) applyLocked(o *tracked, ev engine.Event) {
	if o.apply(ev) {
		t.unfinished--
		telemetry.Record(t.e2e, ev.Time.Sub(o.intended))
	}
}

// apply counts a charge or a terminal status, and reports whether ev
// ended the order (its first terminal status).
func (o *tracked) apply(ev engine.Event) (ended bool) {
	o.ledger.apply(ev)
	if ev.Type == engine.EventPaid {
		o.charges++
		if ev.Redone {
			o.redoneCharges++
		}
		return false
	}
	st, ok := ev.Status()
	if !ok || !st.Terminal() {
		return false
	}
	if o.terminals > 0 && st == engine.StatusDeadLettered {
		return false // a notice for an order that already ended
	}
	o.terminals++
	if ev.Redone {
		o.redoneTerminals++
	}
	if o.terminals == 1 {
		o.status = st
		return true
	}
	return false
}

// accepted registers an order the driver placed, intended at intended.
func (t *tracker) accepted(id string, intended time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == "" {
		t.untracked++
		return
	}
	o := &tracked{intended: intended}
	if old, ok := t.orders[id]; !ok || old.terminals > 0 {
		t.unfinished++
	}
	t.orders[id] = o
	delete(t.indeterminate, id)
	if evs, ok := t.early[id]; ok {
		delete(t.early, id)
		for _, ev := range evs {
			t.applyLocked(o, ev)
		}
	}
}

// open counts tracked orders without a terminal status.
func (t *tracker) open() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unfinished
}

// audit tallies the run.
func (t *tracker) audit() Audit {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := Audit{Accepted: int64(len(t.orders)) + t.untracked, Untracked: t.untracked}
	ids := make([]string, 0, len(t.orders))
	for id := range t.orders {
		ids = append(ids, id)
	}
	sort.Strings(ids) // v7 ids: oldest first, and a stable report
	for _, id := range ids {
		o := t.orders[id]
		switch o.status {
		case engine.StatusConfirmed:
			a.Confirmed++
		case engine.StatusPaymentFailed:
			a.PaymentFailed++
		case engine.StatusRefunded:
			a.Refunded++
		case engine.StatusDeadLettered:
			a.DeadLettered++
		}
		if o.terminals == 0 {
			a.Lost++
			if len(a.LostIDs) < 20 {
				a.LostIDs = append(a.LostIDs, id)
			}
		}
		a.countTwice(id, o)
		a.Ledger.count(id, o, true, false)
	}
	t.auditLeftoversLocked(&a)
	a.Ledger.Charges, a.Ledger.Redelivered, a.Ledger.InboxHits = t.ledger.charges, t.ledger.redelivered, t.ledger.inboxHits
	a.Ledger.Stock = t.ledger.stockAudit()
	return a
}

// restocked notes that the run restocked product id (0: every product):
// its stock is not checked for conservation.
func (t *tracker) restocked(id int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 {
		t.ledger.restockedAll = true
		return
	}
	t.ledger.restocked[id] = true
}

// countTwice counts an order that ended or was charged more than once as
// duplicated or, when work done again explains it, redone.
func (a *Audit) countTwice(id string, o *tracked) {
	switch {
	case o.duplicated():
		a.Duplicated++
		if len(a.DuplicatedIDs) < 20 {
			a.DuplicatedIDs = append(a.DuplicatedIDs, id)
		}
	case o.redone():
		a.Redone++
		if len(a.RedoneIDs) < 20 {
			a.RedoneIDs = append(a.RedoneIDs, id)
		}
	}
}

// auditLeftoversLocked counts the orders that ended without the driver
// hearing they were accepted: recovered (answered indeterminate) or
// orphaned. A recovered order that ran twice is duplicated too.
// acceptedOrRecovered reports whether the run saw order id accepted: by
// its driver, by an API's accepted event, or answered indeterminate (it
// may have run: recovered).
func (t *tracker) acceptedOrRecovered(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.orders[id]; ok || t.indeterminate[id] {
		return true
	}
	var o tracked
	for _, ev := range t.early[id] {
		o.apply(ev)
	}
	return o.ledger.accepted
}

func (t *tracker) auditLeftoversLocked(a *Audit) {
	ids := make([]string, 0, len(t.early))
	for id := range t.early {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var o tracked
		for _, ev := range t.early[id] {
			o.apply(ev)
		}
		a.Ledger.count(id, &o, false, t.indeterminate[id])
		switch {
		case o.terminals == 0:
			// Paid but not ended: nothing to say about an order not ours.
		case t.indeterminate[id]:
			a.Recovered++
			a.countTwice(id, &o)
		default:
			a.Orphaned++
		}
	}
}
