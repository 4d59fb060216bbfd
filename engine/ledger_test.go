package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestLedgerOutlivesTheStore: far more orders in flight than the trace
// store holds. Every figure must still come out whole once they end: open
// 0, one e2e sample per order.
func TestLedgerOutlivesTheStore(t *testing.T) {
	const n, kept = 60_000, 2_000
	s, l := newStore(kept), newLedger()
	t0 := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		for _, ev := range []Event{
			{Type: EventAccepted, Time: t0},
			{Type: EventPaymentStarted, Stage: StagePayment, Time: t0.Add(time.Millisecond)},
		} {
			ev.OrderID = ids[i]
			s.apply(ev)
			l.apply(ev)
		}
	}
	if c := l.counts(); c.Accepted != n || c.Open != n {
		t.Fatalf("in flight: %+v, want %d accepted and open", c, n)
	}
	for i, id := range ids {
		for _, ev := range []Event{
			{Type: EventPaid, Stage: StagePayment, Time: t0.Add(2 * time.Millisecond)},
			{Type: EventStockTaken, Stage: StageInventory, Time: t0.Add(3 * time.Millisecond)},
			{Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(time.Duration(4+i%10) * time.Millisecond)},
		} {
			ev.OrderID = id
			s.apply(ev)
			l.apply(ev)
		}
	}
	if got := s.len(); got != kept {
		t.Errorf("store holds %d orders, want %d", got, kept)
	}
	c := l.counts()
	want := OrderCounts{Accepted: n, Confirmed: n}
	if c != want {
		t.Errorf("after the end: %+v, want %+v", c, want)
	}
	p := l.e2e.Total()
	if p.Count != n {
		t.Errorf("e2e has %d samples, want %d (one per order)", p.Count, n)
	}
	// 4..13 ms, evenly: the median is 8-9 ms, the max 13 ms.
	if p.P50 < 8*time.Millisecond || p.P50 > 9010*time.Microsecond || p.Max < 13*time.Millisecond || p.Max > 13020*time.Microsecond {
		t.Errorf("e2e p50 %v max %v, want 8-9ms and 13ms", p.P50, p.Max)
	}
	if len(l.live) != 0 {
		t.Errorf("%d orders still live after all ended", len(l.live))
	}
}

func TestLedgerIndeterminate(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name   string
		events []string
		want   OrderCounts
	}{
		{"503, then it ran anyway", []string{EventIndeterminate, EventPaid, EventConfirmed}, OrderCounts{Indeterminate: 1, Recovered: 1}},
		{"it ran before the 503 was logged", []string{EventPaid, EventConfirmed, EventIndeterminate}, OrderCounts{Indeterminate: 1, Recovered: 1}},
		{"503, never ran", []string{EventIndeterminate}, OrderCounts{Indeterminate: 1}},
		{"503, then a retry with the key got it accepted", []string{EventIndeterminate, EventAccepted, EventPaid, EventConfirmed}, OrderCounts{Accepted: 1, Confirmed: 1}},
		{"503, ran, then the retry's accept", []string{EventIndeterminate, EventConfirmed, EventAccepted}, OrderCounts{Accepted: 1, Confirmed: 1}},
		{"ran, never accepted nor indeterminate", []string{EventConfirmed}, OrderCounts{Orphaned: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger()
			l.since = t0.Add(-time.Second)
			for i, typ := range tt.events {
				l.apply(Event{OrderID: "x", Type: typ, Time: t0.Add(time.Duration(i) * time.Millisecond)})
			}
			if c := l.counts(); c != tt.want {
				t.Errorf("counts %+v, want %+v", c, tt.want)
			}
			// Once the grace has passed the counts are final and the
			// order is forgotten, unless it is still running.
			l.sweep(time.Now().Add(acceptGrace + time.Second))
			if c := l.counts(); c != tt.want {
				t.Errorf("after the sweep: counts %+v, want %+v", c, tt.want)
			}
		})
	}
}

// TestLedgerDuplicateAfterSettle: a second outcome long after the order
// ended, and after the ledger forgot it as live, is still a duplicate.
func TestLedgerDuplicateAfterSettle(t *testing.T) {
	l := newLedger()
	t0 := time.Now()
	id := uuid.Must(uuid.NewV7()).String()
	l.apply(Event{OrderID: id, Type: EventAccepted, Time: t0})
	l.apply(Event{OrderID: id, Type: EventConfirmed, Time: t0.Add(time.Millisecond)})
	for i := 0; i < 1000; i++ { // other orders come and go
		o := fmt.Sprintf("other-%d", i)
		l.apply(Event{OrderID: o, Type: EventAccepted, Time: t0})
		l.apply(Event{OrderID: o, Type: EventConfirmed, Time: t0})
	}
	l.apply(Event{OrderID: id, Type: EventRefunded, Time: t0.Add(time.Second)})
	l.apply(Event{OrderID: id, Type: EventDeadLettered, Time: t0.Add(time.Second)}) // a notice, not an outcome
	if c := l.counts(); c.Duplicated != 1 || c.Confirmed != 1001 || c.Refunded != 0 {
		t.Errorf("counts %+v, want 1 duplicated and the first outcome kept", c)
	}
	if st, ok := l.status(id); !ok || st != StatusConfirmed {
		t.Errorf("status %s %v, want confirmed", st, ok)
	}
}

// TestLedgerJoinedLate: a ledger that began listening mid-run (a watcher)
// does not call the orders it saw end, but not begin, orphans.
func TestLedgerJoinedLate(t *testing.T) {
	t0 := time.Now()
	l := newLedger()
	l.since = t0
	l.apply(Event{OrderID: "before", Type: EventStockTaken, Stage: StageInventory, Time: t0.Add(-time.Second)})
	l.apply(Event{OrderID: "before", Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(time.Millisecond)})
	l.apply(Event{OrderID: "after", Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(2 * time.Millisecond)})
	l.apply(Event{OrderID: "raced", Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(3 * time.Millisecond)})
	l.apply(Event{OrderID: "raced", Type: EventAccepted, Stage: RoleAPI, Time: t0.Add(time.Millisecond)})
	want := OrderCounts{Accepted: 1, Confirmed: 1, Orphaned: 1}
	if c := l.counts(); c != want {
		t.Errorf("counts %+v, want %+v (only the order that began after we listened is an orphan)", c, want)
	}
}

// TestLedgerReset: orders running when a run resets the figures are
// followed to their end but neither counted nor called orphans.
func TestLedgerReset(t *testing.T) {
	t0 := time.Now()
	l := newLedger()
	l.apply(Event{OrderID: "old", Type: EventAccepted, Time: t0})
	l.apply(Event{OrderID: "old-503", Type: EventIndeterminate, Time: t0})
	l.reset()
	l.apply(Event{OrderID: "new", Type: EventAccepted, Time: time.Now()})
	for _, id := range []string{"old", "old-503", "new"} {
		l.apply(Event{OrderID: id, Type: EventConfirmed, Time: time.Now()})
	}
	l.apply(Event{OrderID: "old", Type: EventRefunded, Time: time.Now()})
	want := OrderCounts{Accepted: 1, Confirmed: 1}
	if c := l.counts(); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if n := l.e2e.Total().Count; n != 1 {
		t.Errorf("e2e samples %d, want 1", n)
	}
}

// TestLedgerRedone: a second outcome from work done again (Redone) counts
// as redone, before or after the order was settled; an unmarked one is
// still a duplicate.
func TestLedgerRedone(t *testing.T) {
	l := newLedger()
	t0 := time.Now()
	ids := []string{uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()}
	for _, id := range ids {
		l.apply(Event{OrderID: id, Type: EventAccepted, Time: t0})
	}
	l.apply(Event{OrderID: ids[0], Type: EventConfirmed, Time: t0})
	l.apply(Event{OrderID: ids[0], Type: EventConfirmed, Time: t0, Redone: true})
	l.apply(Event{OrderID: ids[1], Type: EventConfirmed, Time: t0, Redone: true})
	for i := 0; i < 1000; i++ { // ids[1] is settled and forgotten as live
		o := fmt.Sprintf("other-%d", i)
		l.apply(Event{OrderID: o, Type: EventAccepted, Time: t0})
		l.apply(Event{OrderID: o, Type: EventConfirmed, Time: t0})
	}
	l.apply(Event{OrderID: ids[1], Type: EventConfirmed, Time: t0})
	l.apply(Event{OrderID: ids[2], Type: EventConfirmed, Time: t0})
	l.apply(Event{OrderID: ids[2], Type: EventConfirmed, Time: t0})
	if c := l.counts(); c.Redone != 2 || c.Duplicated != 1 || c.Confirmed != 1003 {
		t.Errorf("counts %+v, want 2 redone, 1 duplicated, 1003 confirmed", c)
	}
}
