package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestStoreIsBounded(t *testing.T) {
	s := newStore(100)
	t0 := time.Now()
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("o%04d", i)
		s.apply(Event{OrderID: id, Type: EventAccepted, Time: t0})
		s.apply(Event{OrderID: id, Type: EventPaid, Stage: StagePayment, Time: t0.Add(time.Millisecond)})
		s.apply(Event{OrderID: id, Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(3 * time.Millisecond)})
	}
	if n := s.len(); n != 100 {
		t.Fatalf("store holds %d orders, want 100", n)
	}
	if _, ok := s.get("o0899"); ok {
		t.Error("an evicted order is still there")
	}
	got, total := s.list(OrderQuery{Limit: 3})
	if total != 100 || len(got) != 3 || got[0].OrderID != "o0999" || got[2].OrderID != "o0997" {
		t.Errorf("list = %d of %d, first %v: want newest first", len(got), total, got)
	}
}

// TestEventOrder feeds one order's events, in the orders they can arrive
// in, to the trace store (status, timeline) and the ledger (counts).
func TestEventOrder(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name       string
		events     []Event
		want       Status
		counts     OrderCounts
		stageTimes map[string]time.Duration
	}{
		{
			name: "in order",
			events: []Event{
				{Type: EventAccepted, Stage: RoleAPI, Time: t0},
				{Type: EventPaid, Stage: StagePayment, Time: t0.Add(2 * time.Millisecond)},
				{Type: EventStockTaken, Stage: StageInventory, Time: t0.Add(5 * time.Millisecond)},
				{Type: EventConfirmed, Stage: StageEmail, Time: t0.Add(6 * time.Millisecond)},
			},
			want:       StatusConfirmed,
			counts:     OrderCounts{Accepted: 1, Confirmed: 1},
			stageTimes: map[string]time.Duration{StagePayment: 2 * time.Millisecond, StageInventory: 3 * time.Millisecond, StageEmail: time.Millisecond},
		},

		{
			name: "started events, a retry and a refund",
			events: []Event{
				{Type: EventAccepted, Stage: RoleAPI, Time: t0},
				{Type: EventPaymentStarted, Stage: StagePayment, Time: t0.Add(1 * time.Millisecond)},
				{Type: EventPaid, Stage: StagePayment, Time: t0.Add(2 * time.Millisecond)},
				{Type: EventInventoryStarted, Stage: StageInventory, Time: t0.Add(3 * time.Millisecond)},
				{Type: EventRetried, Stage: StageInventory, Time: t0.Add(4 * time.Millisecond)},
				{Type: EventInventoryStarted, Stage: StageInventory, Time: t0.Add(9 * time.Millisecond)},
				{Type: EventOutOfStock, Stage: StageInventory, Time: t0.Add(10 * time.Millisecond)},
				{Type: EventPaymentStarted, Stage: StagePayment, Time: t0.Add(11 * time.Millisecond)},
				{Type: EventRefunded, Stage: StagePayment, Time: t0.Add(12 * time.Millisecond)},
				{Type: EventEmailStarted, Stage: StageEmail, Time: t0.Add(13 * time.Millisecond)},
				{Type: EventEmailSent, Stage: StageEmail, Time: t0.Add(15 * time.Millisecond)},
			},
			want:   StatusRefunded,
			counts: OrderCounts{Accepted: 1, Refunded: 1},
			// The first visit of each stage, up to its last event there.
			stageTimes: map[string]time.Duration{StagePayment: 2 * time.Millisecond, StageInventory: 8 * time.Millisecond, StageEmail: 3 * time.Millisecond},
		}, {
			name: "accept logged after the end",
			events: []Event{
				{Type: EventPaid, Stage: StagePayment, Time: t0.Add(time.Millisecond)},
				{Type: EventDeclined, Stage: StagePayment, Time: t0.Add(time.Millisecond)},
				{Type: EventAccepted, Stage: RoleAPI, Time: t0},
			},
			want:   StatusPaymentFailed,
			counts: OrderCounts{Accepted: 1, PaymentFailed: 1},
		},
		{
			name: "two terminal statuses are a duplicate",
			events: []Event{
				{Type: EventAccepted, Time: t0},
				{Type: EventConfirmed, Time: t0},
				{Type: EventRefunded, Time: t0},
			},
			want:   StatusConfirmed,
			counts: OrderCounts{Accepted: 1, Confirmed: 1, Duplicated: 1},
		},
		{
			name: "dead-lettered notice after the end is not a second outcome",
			events: []Event{
				{Type: EventAccepted, Time: t0},
				{Type: EventDeclined, Time: t0},
				{Type: EventDeadLettered, Time: t0},
			},
			want:   StatusPaymentFailed,
			counts: OrderCounts{Accepted: 1, PaymentFailed: 1},
		},
		{
			name:   "never confirmed to the client",
			events: []Event{{Type: EventConfirmed, Time: t0}},
			want:   StatusConfirmed,
			counts: OrderCounts{Orphaned: 1},
		},
		{
			name:   "open",
			events: []Event{{Type: EventAccepted, Time: t0}, {Type: EventPaid, Time: t0}},
			want:   StatusPaid,
			counts: OrderCounts{Accepted: 1, Open: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l := newStore(10), newLedger()
			l.since = t0.Add(-time.Second)
			for _, ev := range tt.events {
				ev.OrderID = "x"
				s.apply(ev)
				l.apply(ev)
			}
			r, _ := s.get("x")
			if r.Status != tt.want {
				t.Errorf("status %s, want %s", r.Status, tt.want)
			}
			if st, _ := l.status("x"); st != tt.want {
				t.Errorf("ledger status %s, want %s", st, tt.want)
			}
			if c := l.counts(); c != tt.counts {
				t.Errorf("counts %+v, want %+v", c, tt.counts)
			}
			for stage, want := range tt.stageTimes {
				if got := r.StageTime(stage); got != want {
					t.Errorf("time in %s = %v, want %v", stage, got, want)
				}
			}
		})
	}
}

func TestStoreKeepsTimelinesInTimeOrder(t *testing.T) {
	s := newStore(10)
	t0 := time.Now()
	// As a watcher may receive them: another process's events late.
	for _, ev := range []Event{
		{Type: EventPaymentStarted, Stage: StagePayment, Time: t0.Add(2 * time.Millisecond)},
		{Type: EventAccepted, Stage: RoleAPI, Time: t0},
		{Type: EventStockTaken, Stage: StageInventory, Time: t0.Add(5 * time.Millisecond)},
		{Type: EventPaid, Stage: StagePayment, Time: t0.Add(3 * time.Millisecond)},
	} {
		ev.OrderID = "x"
		s.apply(ev)
	}
	r, _ := s.get("x")
	var got []string
	for _, ev := range r.Events {
		got = append(got, ev.Type)
	}
	if want := []string{EventAccepted, EventPaymentStarted, EventPaid, EventStockTaken}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if r.Status != StatusReserved {
		t.Errorf("status %s, want reserved", r.Status)
	}
}
