package loadgen

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"oms-sim/engine"
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
	// LostIDs and DuplicatedIDs name up to 20 culprits each.
	LostIDs       []string `json:"lost_ids,omitempty"`
	DuplicatedIDs []string `json:"duplicated_ids,omitempty"`
}

// tracker follows every order a run placed, through the engine's events.
type tracker struct {
	mu     sync.Mutex
	orders map[string]*tracked
	// early holds events for ids the driver has not reported yet: the
	// pipeline can finish an order before the API's answer arrives.
	early      map[string][]engine.Event
	untracked  int64
	unfinished int64                   // tracked orders without a terminal status yet
	e2e        *hdrhistogram.Histogram // µs, intended send → terminal
}

type tracked struct {
	intended  time.Time
	status    engine.Status
	terminals int
	charges   int
}

func newTracker() *tracker {
	return &tracker{
		orders: map[string]*tracked{},
		early:  map[string][]engine.Event{},
		e2e:    hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
}

// onEvent is the engine subscription callback.
func (t *tracker) onEvent(ev engine.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.orders[ev.OrderID]
	if !ok {
		if st, term := ev.Status(); (term && st.Terminal()) || ev.Type == engine.EventPaid {
			t.early[ev.OrderID] = append(t.early[ev.OrderID], ev)
		}
		return
	}
	t.applyLocked(o, ev)
}

func (t *tracker) applyLocked(o *tracked, ev engine.Event) {
	if ev.Type == engine.EventPaid {
		o.charges++
		return
	}
	st, ok := ev.Status()
	if !ok || !st.Terminal() {
		return
	}
	if o.terminals > 0 && st == engine.StatusDeadLettered {
		return // a notice for an order that already ended
	}
	o.terminals++
	if o.terminals == 1 {
		t.unfinished--
		o.status = st
		us := ev.Time.Sub(o.intended).Microseconds()
		_ = t.e2e.RecordValue(max(1, min(us, t.e2e.HighestTrackableValue())))
	}
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
		if o.terminals > 1 || o.charges > 1 {
			a.Duplicated++
			if len(a.DuplicatedIDs) < 20 {
				a.DuplicatedIDs = append(a.DuplicatedIDs, id)
			}
		}
	}
	return a
}
