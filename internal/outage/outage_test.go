package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"oms-sim/internal/syncbuf"
	"strings"
	"testing"
	"time"
)

// TestOneLineDownOneLineBack: three sessions lose the broker, fail to
// reconnect a few times each and come back one by one. At warn level the
// log has one line when the first is lost and one when the last is back,
// with the length of the outage and the number of sessions (both at
// warn: the default level shows them); a session
// that stops while down does not hold the outage open.
func TestOneLineDownOneLineBack(t *testing.T) {
	var buf bytes.Buffer
	tr := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), Where("AMQP", "amqp://guest:secret@h1:5672/,amqp://h2:5672/"))
	now := time.Unix(1000, 0)
	tr.now = func() time.Time { return now }
	tr.settle = 0 // the back line at once (TestLateLossContinuesTheOutage waits it out)
	var backFor time.Duration
	tr.OnBack(func(d time.Duration, n int) { backFor = d })

	boom := errors.New("connection reset")
	for _, s := range []string{"a", "b", "c"} {
		tr.Lost(s, boom)
	}
	for range 5 {
		for _, s := range []string{"a", "b", "c", "d"} {
			tr.Failed(s, boom, time.Second)
		}
	}
	if down, since := tr.Down(); !down || !since.Equal(time.Unix(1000, 0)) {
		t.Errorf("Down() = %v, %v; want true since the first loss", down, since)
	}
	now = now.Add(4 * time.Second)
	tr.Gone("d")
	if ended, _ := tr.Up("a"); ended {
		t.Error("outage ended with b and c still down")
	}
	tr.Up("b")
	ended, d := tr.Up("c")
	if !ended || d != 4*time.Second || backFor != 4*time.Second {
		t.Errorf("Up(last) = %v, %v (OnBack %v); want the outage ended after 4s", ended, d, backFor)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 ||
		!strings.Contains(lines[0], `msg="AMQP at h1:5672,h2:5672 is down; reconnecting"`) || !strings.Contains(lines[0], "connection reset") ||
		!strings.Contains(lines[1], `msg="AMQP at h1:5672,h2:5672 is back"`) || !strings.Contains(lines[1], "down_for=4s") || !strings.Contains(lines[1], "sessions=4") {
		t.Errorf("log:\n%s\nwant one down line and one back line (4s, 4 sessions)", buf.String())
	}
	if strings.Contains(buf.String(), "secret") {
		t.Error("the log shows the password")
	}
	// A second outage is logged again.
	buf.Reset()
	tr.Lost("a", boom)
	tr.Up("a")
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("second outage: %d lines, want 2:\n%s", n, buf.String())
	}
}

// TestLateLossContinuesTheOutage: the broker closes two sessions' links at
// once, but one notices, reconnects and is back before the other notices
// (as a stream consumer and producer do). That is one outage: one down
// line, and one back line once both have stayed up for the settling time,
// counting both sessions.
func TestLateLossContinuesTheOutage(t *testing.T) {
	var buf syncbuf.Buffer
	tr := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), "stream at h:5552")
	tr.settle = 100 * time.Millisecond
	backs := make(chan int, 2)
	tr.OnBack(func(_ time.Duration, n int) { backs <- n })
	boom := errors.New("socket closed")

	tr.Lost("consumer", boom)
	tr.Up("consumer")
	tr.Lost("producer", boom) // noticed late, within the settling time
	tr.Up("producer")
	select {
	case n := <-backs:
		if n != 2 {
			t.Errorf("the outage ended with %d sessions, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no back line within 5 s")
	}
	time.Sleep(200 * time.Millisecond) // a second back line would come now
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "is down") || !strings.Contains(lines[1], "is back") || !strings.Contains(lines[1], "sessions=2") {
		t.Errorf("log:\n%s\nwant one down line and one back line for both sessions", buf.String())
	}

	// After the settling time a new loss is a new outage, logged again.
	tr.Lost("consumer", boom)
	if down, _ := tr.Down(); !down {
		t.Error("a loss after the outage ended is not a new outage")
	}
	if n := strings.Count(buf.String(), "is down"); n != 2 {
		t.Errorf("%d down lines after a second outage began, want 2", n)
	}
}
