package streamlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

func TestPingAndOpenFailFastOnDeadPort(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: bind one, note it, close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("rabbitmq-stream://guest:guest@%s/", ln.Addr())
	ln.Close()

	start := time.Now()
	if err := Ping(context.Background(), dead); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Ping: %v, want ErrUnreachable", err)
	}
	l, err := Open(context.Background(), Config{URL: dead})
	if !errors.Is(err, ErrUnreachable) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Open: %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failing took %v, want well under a second", d)
	}
	t.Logf("Open on a dead port: %v", err)
}

// Wrong credentials or vhost: the broker answered, so not ErrUnreachable,
// and the error says what it refused.
func TestOpenRefused(t *testing.T) {
	t.Parallel()
	requireBroker(t)
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	badPassword := *u
	badPassword.User = url.UserPassword("guest", "not-the-password")
	badVhost := *u
	badVhost.Path = "/no-such-vhost-oms-streamlog"
	for name, raw := range map[string]string{"password": badPassword.String(), "vhost": badVhost.String()} {
		l, err := Open(context.Background(), Config{URL: raw, Stream: uniqueStream(t)})
		if err == nil {
			l.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("%s: %v; want a refusal, without the password", name, err)
		}
		t.Logf("bad %s: %v", name, err)
	}
}

func TestPingRejectsAMQPPort(t *testing.T) {
	t.Parallel()
	// Something that listens but is not the stream protocol.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("AMQP\x00\x00\x09\x01"))
		buf := make([]byte, 64)
		_, _ = c.Read(buf)
	}()
	err = Ping(context.Background(), fmt.Sprintf("rabbitmq-stream://%s/", ln.Addr()))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Ping: %v, want ErrUnreachable", err)
	}
	t.Logf("Ping on a non-stream port: %v", err)
}

// Events appended by one process reach a subscriber in another (a second
// Log stands for it), all of them, in order; and the appender's own
// subscribers see them too, through the stream.
func TestAppendReachesOtherProcessInOrder(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	writer := openLog(t, cfg)
	reader := openLog(t, cfg)
	theirs, ours := newCollector(), newCollector()
	reader.Subscribe(theirs.add)
	writer.Subscribe(ours.add)

	const n = 5000
	run := "run-" + cfg.Stream
	for i := range n {
		writer.Append(event(run, fmt.Sprintf("o%d", i%50), i))
	}
	theirs.waitFor(t, n, 30*time.Second)
	ours.waitFor(t, n, 30*time.Second)
	for name, c := range map[string]*collector{"other process": theirs, "same process": ours} {
		got := c.snapshot()
		if len(got) != n {
			t.Errorf("%s: %d events, want %d", name, len(got), n)
		}
		for i, ev := range got {
			if ev.Detail != fmt.Sprint(i) || ev.RunID != run {
				t.Fatalf("%s: event %d is %+v, want detail %d of run %s", name, i, ev, i, run)
			}
		}
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	st := writer.Stats()
	if st.Appended != n || st.Confirmed != n || st.Dropped != 0 || st.Pending != 0 {
		t.Errorf("writer stats = %+v, want %d appended and confirmed", st, n)
	}
	if st := reader.Stats(); st.Delivered != n || st.Undecodable != 0 || !st.Connected {
		t.Errorf("reader stats = %+v, want %d delivered, connected", st, n)
	}
}

// An event keeps every field through the stream, the order included.
func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	got := newCollector()
	cancel := l.Subscribe(got.add)
	defer cancel()
	want := engine.Event{
		RunID: "r1", OrderID: "o-1", Type: engine.EventPaid, Stage: "payment",
		Worker: "payment-2", Process: "host/1", Time: time.Date(2026, 11, 25, 1, 2, 3, 456789, time.UTC),
		Detail: "attempt 2",
		Order: &engine.Order{OrderID: "o-1", ProductID: 7, Quantity: 2, UserID: 3, AmountCents: 1999,
			CreatedAt: time.Date(2026, 11, 25, 1, 2, 0, 0, time.UTC)},
	}
	l.Append(want)
	got.waitFor(t, 1, 10*time.Second)
	ev := got.snapshot()[0]
	if ev.Order == nil || *ev.Order != *want.Order {
		t.Fatalf("order = %+v, want %+v", ev.Order, want.Order)
	}
	ev.Order, want.Order = nil, nil
	if ev != want {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
}

// A Subscribe's cancel stops its deliveries, not the others'.
func TestSubscribeCancel(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	l := openLog(t, cfg)
	a, b := newCollector(), newCollector()
	cancelA := l.Subscribe(a.add)
	l.Subscribe(b.add)
	l.Append(event("r", "o", 0))
	b.waitFor(t, 1, 10*time.Second)
	cancelA()
	l.Append(event("r", "o", 1))
	b.waitFor(t, 2, 10*time.Second)
	if n := a.len(); n != 1 {
		t.Errorf("cancelled subscriber got %d events, want 1", n)
	}
}

// Filling the buffer faster than the broker confirms drops the surplus,
// counts it, and never blocks the caller; everything accepted arrives.
func TestAppendFasterThanBrokerDropsAndCounts(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	cfg.Buffer = 20
	l := openLog(t, cfg)
	got := newCollector()
	l.Subscribe(got.add)
	const n = 20_000
	start := time.Now()
	for i := range n {
		l.Append(event("r", "o", i))
	}
	elapsed := time.Since(start)
	st := l.Stats()
	if st.Appended+st.Dropped != n || st.Dropped == 0 {
		t.Fatalf("stats = %+v: want appended + dropped = %d, some dropped", st, n)
	}
	got.waitFor(t, int(st.Appended), 30*time.Second)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Confirmed != st.Appended {
		t.Errorf("stats = %+v: every accepted event confirmed", st)
	}
	t.Logf("%d appends in %v (%v each): %d accepted, %d dropped", n, elapsed, elapsed/n, st.Appended, st.Dropped)
}

// A stream that exists with other retention is kept as it is.
func TestOpenKeepsExistingStreamArguments(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	cfg.MaxAge, cfg.MaxBytes = time.Hour, 1<<30
	first := openLog(t, cfg)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.MaxAge = 2 * time.Hour
	openLog(t, cfg) // logs "stream exists with other arguments"
	out := rabbitmqctl(t, "list_queues", "-q", "name", "arguments")
	for _, line := range splitLines(out) {
		if len(line) > len(cfg.Stream) && line[:len(cfg.Stream)] == cfg.Stream {
			if !contains(line, "3600s") || !contains(line, "1073741824") {
				t.Errorf("stream arguments: %s; want the first Open's max-age 3600s and max-length-bytes 1073741824", line)
			}
			return
		}
	}
	t.Errorf("stream %s not in list_queues:\n%s", cfg.Stream, out)
}
