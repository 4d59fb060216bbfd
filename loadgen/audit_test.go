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
