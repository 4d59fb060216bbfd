package loadgen

import (
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

func TestTrackerAudit(t *testing.T) {
	t0 := time.Now()
	ev := func(id, typ string, after time.Duration) engine.Event {
		return engine.Event{OrderID: id, Type: typ, Time: t0.Add(after)}
	}
	tr := newTracker()
	// "early" finishes before the driver hears its id back.
	tr.onEvent(ev("early", engine.EventPaid, time.Millisecond))
	tr.onEvent(ev("early", engine.EventConfirmed, 2*time.Millisecond))
	tr.accepted("early", t0)
	tr.accepted("ok", t0)
	tr.onEvent(ev("ok", engine.EventDeclined, 3*time.Millisecond))
	tr.onEvent(ev("ok", engine.EventDeadLettered, 4*time.Millisecond)) // the notice, not a 2nd outcome
	tr.accepted("lost", t0)
	tr.onEvent(ev("lost", engine.EventPaid, time.Millisecond))
	tr.accepted("twice", t0)
	tr.onEvent(ev("twice", engine.EventConfirmed, time.Millisecond))
	tr.onEvent(ev("twice", engine.EventRefunded, time.Millisecond))
	tr.accepted("charged2", t0)
	tr.onEvent(ev("charged2", engine.EventPaid, time.Millisecond))
	tr.onEvent(ev("charged2", engine.EventPaid, time.Millisecond))
	tr.onEvent(ev("charged2", engine.EventConfirmed, time.Millisecond))
	tr.accepted("", t0)
	tr.onEvent(ev("stranger", engine.EventConfirmed, time.Millisecond)) // not ours

	a := tr.audit()
	want := Audit{Accepted: 6, Confirmed: 3, PaymentFailed: 1, Lost: 1, Duplicated: 2, Untracked: 1,
		LostIDs: []string{"lost"}, DuplicatedIDs: []string{"charged2", "twice"}}
	if a.Accepted != want.Accepted || a.Confirmed != want.Confirmed || a.PaymentFailed != want.PaymentFailed ||
		a.Lost != want.Lost || a.Duplicated != want.Duplicated || a.Untracked != want.Untracked ||
		len(a.LostIDs) != 1 || a.LostIDs[0] != "lost" || len(a.DuplicatedIDs) != 2 {
		t.Fatalf("audit\n got %+v\nwant %+v", a, want)
	}
	if tr.open() != 1 {
		t.Errorf("open = %d, want 1", tr.open())
	}
	if n := tr.e2e.TotalCount(); n != 4 {
		t.Errorf("%d e2e samples, want one per ended order (4)", n)
	}
}

// TestTrackerRecoveredAndOrphaned: an order answered indeterminate that
// ran anyway is recovered, one that a retry got accepted is just
// accepted, and an order nobody here placed is orphaned.
func TestTrackerRecoveredAndOrphaned(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	ev := func(id, typ string) engine.Event {
		return engine.Event{OrderID: id, Type: typ, Time: t0.Add(time.Millisecond)}
	}
	tr := newTracker()
	// "rec": indeterminate, never accepted, confirmed.
	tr.onEvent(ev("rec", engine.EventIndeterminate))
	tr.onEvent(ev("rec", engine.EventPaid))
	tr.onEvent(ev("rec", engine.EventConfirmed))
	// "retried": indeterminate, then a retry with its key got it accepted
	// (200, same id), then it ran once.
	tr.onEvent(ev("retried", engine.EventIndeterminate))
	tr.onEvent(ev("retried", engine.EventPaid))
	tr.accepted("retried", t0)
	tr.onEvent(ev("retried", engine.EventConfirmed))
	// "twice": indeterminate and it ran twice.
	tr.onEvent(ev("twice", engine.EventIndeterminate))
	tr.onEvent(ev("twice", engine.EventPaid))
	tr.onEvent(ev("twice", engine.EventPaid))
	tr.onEvent(ev("twice", engine.EventConfirmed))
	// "pending": indeterminate and never ran: neither recovered nor lost.
	tr.onEvent(ev("pending", engine.EventIndeterminate))
	// Another load source's orders.
	tr.onEvent(ev("other-1", engine.EventDeclined))
	tr.onEvent(ev("other-2", engine.EventConfirmed))
	tr.onEvent(ev("other-3", engine.EventPaid)) // not ended: not counted

	a := tr.audit()
	if a.Accepted != 1 || a.Confirmed != 1 || a.Lost != 0 {
		t.Errorf("accepted %d confirmed %d lost %d; want the retried order once", a.Accepted, a.Confirmed, a.Lost)
	}
	if a.Recovered != 2 || a.Orphaned != 2 {
		t.Errorf("recovered %d orphaned %d, want 2 and 2", a.Recovered, a.Orphaned)
	}
	if a.Duplicated != 1 || len(a.DuplicatedIDs) != 1 || a.DuplicatedIDs[0] != "twice" {
		t.Errorf("duplicated %d %v, want the recovered order charged twice", a.Duplicated, a.DuplicatedIDs)
	}
	if tr.open() != 0 {
		t.Errorf("open %d", tr.open())
	}
}

func TestMixIsDeterministic(t *testing.T) {
	sc := &scenario.Scenario{Seed: 9, Catalog: scenario.Catalog{Products: 20},
		Orders: scenario.Orders{Product: scenario.ProductDist{Dist: scenario.ProductZipf, S: 1.3},
			Quantity: scenario.IntRange{Min: 1, Max: 4}, Users: 100}}
	a, b := newMix(sc), newMix(sc)
	counts := map[int]int{}
	for i := 0; i < 5000; i++ {
		x, y := a.next(), b.next()
		if x != y {
			t.Fatalf("draw %d differs: %+v vs %+v", i, x, y)
		}
		if x.ProductID < 1 || x.ProductID > 20 || x.Quantity < 1 || x.Quantity > 4 || x.UserID < 1 || x.UserID > 100 {
			t.Fatalf("out of range: %+v", x)
		}
		counts[x.ProductID]++
	}
	if counts[1] < 5*counts[10] {
		t.Errorf("zipf: product 1 drawn %d times, product 10 %d: want a strong skew", counts[1], counts[10])
	}
}

// TestTrackerRedone: an order that ended or was charged twice because a
// redelivery was worked again (events marked Redone) is redone, not
// duplicated — whichever of the two outcomes arrives first — while two
// unmarked outcomes are still a duplicate.
func TestTrackerRedone(t *testing.T) {
	t0 := time.Now()
	ev := func(id, typ string, redone bool) engine.Event {
		return engine.Event{OrderID: id, Type: typ, Time: t0.Add(time.Millisecond), Redone: redone}
	}
	tr := newTracker()
	for _, id := range []string{"a", "b", "c", "d"} {
		tr.accepted(id, t0)
	}
	tr.onEvent(ev("a", engine.EventConfirmed, false))
	tr.onEvent(ev("a", engine.EventConfirmed, true)) // email redone elsewhere
	tr.onEvent(ev("b", engine.EventConfirmed, true)) // the redone copy first
	tr.onEvent(ev("b", engine.EventConfirmed, false))
	tr.onEvent(ev("c", engine.EventPaid, false))
	tr.onEvent(ev("c", engine.EventPaid, true)) // charged again after a crash
	tr.onEvent(ev("c", engine.EventConfirmed, true))
	tr.onEvent(ev("d", engine.EventConfirmed, false))
	tr.onEvent(ev("d", engine.EventRefunded, false)) // a real second outcome

	a := tr.audit()
	if a.Redone != 3 || a.Duplicated != 1 || a.Confirmed != 4 || a.Lost != 0 ||
		len(a.RedoneIDs) != 3 || len(a.DuplicatedIDs) != 1 || a.DuplicatedIDs[0] != "d" {
		t.Fatalf("audit %+v: want a, b, c redone, d duplicated, all confirmed", a)
	}
}
