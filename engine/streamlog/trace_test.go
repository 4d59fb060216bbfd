package streamlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
)

// A trace of a UUIDv7 order reads from the order's time and stops after
// its last event: the orders before and after it (in time and in the
// stream) are not read, however many there are.
func TestTraceReadsOnlyTheOrdersTime(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	const before, after = 3000, 3000 // 30 messages each
	for i := range before {
		l.Append(event("r", fmt.Sprintf("old-%d", i), i))
	}
	waitConfirmed(t, l, before)
	// Chunks carry the broker's time in milliseconds: the order comes
	// well after the old ones' chunks.
	time.Sleep(300 * time.Millisecond)
	id := uuid.Must(uuid.NewV7()).String()
	steps := []string{engine.EventAccepted, engine.EventPaymentStarted, engine.EventPaid, engine.EventConfirmed}
	for i, typ := range steps {
		ev := event("r", id, i)
		ev.Type = typ
		l.Append(ev)
	}
	waitConfirmed(t, l, before+int64(len(steps)))
	last := time.Now()
	for i := range after {
		ev := event("r", fmt.Sprintf("new-%d", i), i)
		ev.Time = last.Add(time.Second) // past the order's last event + tail
		l.Append(ev)
	}
	waitConfirmed(t, l, before+int64(len(steps))+after)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, messages, err := read(ctx, cfg, traceWindow(id, 0, time.Minute, 100*time.Millisecond, 200*time.Millisecond), matchOrder(id))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(steps) {
		t.Fatalf("trace found %d events, want %d: %+v", len(got), len(steps), got)
	}
	for i, ev := range got {
		if ev.Type != steps[i] {
			t.Errorf("event %d = %s, want %s", i, ev.Type, steps[i])
		}
	}
	// The order's events are one or two messages; the first message of
	// the later orders stops the read. Reading from the start would take
	// 60 and more.
	if messages > 5 {
		t.Errorf("trace read %d stream messages, want the order's and one more (≤ 5)", messages)
	}

	// An id that is not a UUIDv7 has no time: the whole stream (since 0)
	// is searched, and the last event still ends the read early.
	got, messages, err = read(ctx, cfg, traceWindow("old-17", 0, 0, TraceMargin, 200*time.Millisecond), matchOrder("old-17"))
	if err != nil || len(got) != 1 || got[0].OrderID != "old-17" {
		t.Fatalf("trace of a plain id: %v, %+v", err, got)
	}
	if messages < 30 {
		t.Errorf("a plain id read %d messages, want the whole stream (≥ 60; ≥ 30 at least)", messages)
	}
}

// OrderTime reads a UUIDv7's time and refuses anything else.
func TestOrderTime(t *testing.T) {
	t.Parallel()
	now := time.Now()
	id := uuid.Must(uuid.NewV7()).String()
	got, err := OrderTime(id)
	if err != nil || got.Sub(now).Abs() > time.Second {
		t.Errorf("OrderTime(%s) = %v, %v; want about %v", id, got, err, now)
	}
	for _, bad := range []string{"o123", "", uuid.NewString(), "0190c3c6-7b4a-7def-8abc" /* cut */} {
		if _, err := OrderTime(bad); err == nil {
			t.Errorf("OrderTime(%q) accepted", bad)
		}
	}
}

// messageTime finds the first event's time without decoding the message.
func TestMessageTime(t *testing.T) {
	t.Parallel()
	ev := event("r", `o"1`, 0)
	ev.Detail = `"time":"2001-01-01T00:00:00Z"`
	data := ev.AppendJSON(nil)
	got, ok := messageTime(append(data, '\n'))
	if !ok || !got.Equal(ev.Time) {
		t.Errorf("messageTime = %v, %v; want %v", got, ok, ev.Time)
	}
	if _, ok := messageTime([]byte("not an event")); ok {
		t.Error("messageTime of garbage: ok")
	}
}
