package engine

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/internal/brokertest"
	"oms-sim/internal/outage"
)

// records is a slog.Handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// matching returns the records at level whose message contains s.
func (r *records) matching(level slog.Level, s string) []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []slog.Record
	for _, rec := range r.recs {
		if rec.Level == level && strings.Contains(rec.Message, s) {
			out = append(out, rec)
		}
	}
	return out
}

func (r *records) atLeast(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec.Level >= level {
			out = append(out, rec.Level.String()+" "+rec.Message)
		}
	}
	return out
}

// TestOutageLogsOnceDownOnceBack runs the engine with a connection per
// worker (many sessions) through a fault proxy, then takes the broker
// away for a few seconds (the proxy stops: every connection drops, every
// attempt is refused) and brings it back. The log must say once that
// AMQP at the proxy's address is down and once that it is back, with how
// long it was down — not a line per session per attempt; those are at
// debug level.
func TestOutageLogsOnceDownOnceBack(t *testing.T) {
	t.Parallel()
	proxy, viaProxy := brokertest.Proxy(t)
	recs := &records{}
	e := startEngine(t, amqpbroker.New(viaProxy), func(c *Config) {
		c.Connections = ConnPerWorker
		c.Logger = slog.New(recs)
	})
	placeMany(t, e, 10, 4)
	waitSettled(t, e, 30*time.Second)

	proxy.Stop()
	waitFor(t, 20*time.Second, "the engine to notice", func() bool { return !e.Connected() })
	time.Sleep(3 * time.Second) // several attempts per session, all refused
	brokertest.ReplaceProxy(t, proxy)
	waitFor(t, 60*time.Second, "the engine to reconnect", e.Connected)

	where := "AMQP at " + proxy.Listen
	// The back line comes once every session has stayed up for the
	// tracker's settling second.
	waitFor(t, 10*time.Second, "the back line", func() bool { return len(recs.matching(slog.LevelWarn, where+" is back")) > 0 })
	time.Sleep(outage.DefaultSettle + 300*time.Millisecond) // no second outage's lines
	down := recs.matching(slog.LevelWarn, where+" is down")
	back := recs.matching(slog.LevelWarn, where+" is back")
	if len(down) != 1 || len(back) != 1 {
		t.Fatalf("log lines: %d %q down, %d back; want one each. Warn and above:\n%s",
			len(down), where, len(back), strings.Join(recs.atLeast(slog.LevelWarn), "\n"))
	}
	var downFor time.Duration
	back[0].Attrs(func(a slog.Attr) bool {
		if a.Key == "down_for" {
			downFor = a.Value.Duration()
		}
		return true
	})
	if downFor < 3*time.Second {
		t.Errorf("back line says down_for %v, want at least the 3 s the proxy was away", downFor)
	}
	if warn := recs.atLeast(slog.LevelWarn); len(warn) != 2 {
		t.Errorf("%d lines at warn or above, want the down and the back line:\n%s", len(warn), strings.Join(warn, "\n"))
	}
	if n := len(recs.matching(slog.LevelDebug, "reconnect failed")) + len(recs.matching(slog.LevelDebug, "session lost")); n < 2 {
		t.Errorf("%d debug lines for the sessions' losses and attempts, want them there", n)
	}
	// And the pipeline works again.
	before := e.Counts()
	placeMany(t, e, 10, 4)
	if c := waitSettled(t, e, 30*time.Second); c.Confirmed+c.PaymentFailed+c.Refunded+c.DeadLettered-
		(before.Confirmed+before.PaymentFailed+before.Refunded+before.DeadLettered) != 10 {
		t.Errorf("after the outage: %+v (before %+v), want 10 more ended", c, before)
	}
}

// TestHalfOpenDetectedWithinTwoHeartbeats makes the broker go silent on
// an idle connection (the proxy passes nothing back and closes nothing):
// only the heartbeat can tell. The connection must close within two
// heartbeat intervals of the silence. (amqp091 sets its read deadline
// three half-intervals after each frame it reads, and RabbitMQ sends one
// at least every half interval: 1.5 intervals at most is expected.)
func TestHalfOpenDetectedWithinTwoHeartbeats(t *testing.T) {
	t.Parallel()
	const hb = 2 * time.Second
	proxy, viaProxy := brokertest.Proxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := amqpbroker.New(viaProxy, amqpbroker.WithHeartbeat(hb)).Dial(ctx, "oms-test/"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(hb) // idle: heartbeats only
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"silent","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`)); err != nil {
		t.Fatal(err)
	}
	silent := time.Now()
	select {
	case <-conn.Closed():
	case <-time.After(5 * hb):
		t.Fatalf("connection still open %v after the broker went silent (heartbeat %v)", 5*hb, hb)
	}
	took := time.Since(silent)
	t.Logf("silent peer detected after %v (heartbeat %v): %v", took.Round(time.Millisecond), hb, conn.Err())
	if took > 2*hb {
		t.Errorf("silent peer detected after %v, want within two heartbeat intervals (%v)", took, 2*hb)
	}
}
