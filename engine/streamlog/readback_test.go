package streamlog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"oms-sim/engine"
)

// ReadBack finds one order's events among others', in order, up to the
// end of the stream as it was when called.
func TestReadBackFindsOrder(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	const orders, perOrder = 200, 6
	for step := range perOrder {
		for o := range orders {
			l.Append(event("r", fmt.Sprintf("o%03d", o), step))
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Confirmed != orders*perOrder {
		t.Fatalf("stats = %+v", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	got, err := ReadBack(ctx, cfg, time.Hour, func(ev engine.Event) bool { return ev.OrderID == "o123" })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ReadBack of %d events took %v", orders*perOrder, time.Since(start))
	if len(got) != perOrder {
		t.Fatalf("got %d events, want %d: %+v", len(got), perOrder, got)
	}
	for i, ev := range got {
		if ev.OrderID != "o123" || ev.Detail != fmt.Sprint(i) {
			t.Errorf("event %d = %+v", i, ev)
		}
	}

	all, err := ReadBack(ctx, cfg, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != orders*perOrder {
		t.Errorf("ReadBack(all) = %d events, want %d", len(all), orders*perOrder)
	}
}

// Events older than since are not read; a since before every event reads
// nothing and returns once the stream stays quiet.
func TestReadBackSince(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	l.Append(event("r", "old", 0))
	waitConfirmed(t, l, 1)
	time.Sleep(1500 * time.Millisecond)
	l.Append(event("r", "new", 1))
	waitConfirmed(t, l, 2)

	ctx := context.Background()
	got, err := ReadBack(ctx, cfg, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Chunks, not events, carry the timestamp; these two are one chunk
	// each (1.5 s apart).
	if len(got) != 1 || got[0].OrderID != "new" {
		t.Errorf("ReadBack(1s) = %+v, want the new event only", got)
	}
}

func TestReadBackEmptyAndMissingStream(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	openLog(t, cfg) // declares the stream
	start := time.Now()
	got, err := ReadBack(context.Background(), cfg, time.Hour, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("empty stream: %v, %v; want nothing", got, err)
	}
	t.Logf("ReadBack of an empty stream took %v", time.Since(start))

	missing := cfg
	missing.Stream += ".missing"
	if _, err := ReadBack(context.Background(), missing, time.Hour, nil); !errors.Is(err, ErrNoStream) {
		t.Errorf("missing stream: %v, want ErrNoStream", err)
	}
}

func waitConfirmed(t testing.TB, l *Log, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.Stats().Confirmed < n {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: %d not confirmed within 10s", l.Stats(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// On a stream still being written, ReadBack stops at the end as it was
// when called, with every event up to there.
func TestReadBackLiveStream(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	stop := appendAlong(l, 20)
	defer stop()
	waitConfirmed(t, l, 5000)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	before := l.Stats().Confirmed
	start := time.Now()
	got, err := ReadBack(ctx, cfg, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := l.Stats().Appended
	t.Logf("read %d events in %v (%d confirmed before, %d appended after)", len(got), time.Since(start), before, after)
	if int64(len(got)) < before || int64(len(got)) > after {
		t.Errorf("read %d events, want between %d and %d", len(got), before, after)
	}
	for i, ev := range got {
		if ev.Detail != fmt.Sprint(i) {
			t.Fatalf("event %d has detail %s", i, ev.Detail)
		}
	}
}
