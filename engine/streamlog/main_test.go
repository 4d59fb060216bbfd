package streamlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"oms-sim/engine"
	"oms-sim/internal/brokertest"
)

// TestMain checks that no test leaves a goroutine behind: ours (sessions,
// confirmation drainers) or the stream client's (reader, heartbeat,
// producer queues, consumer dispatch), which all end once a producer,
// consumer and environment are closed. goleak retries for a while, which
// covers client goroutines that exit just after Close returns. One
// IgnoreTopFunction: the client waits for a node's SASL mechanisms with no
// timeout, so against a listener that accepts and then says nothing
// (TestOpenIsBounded's) that goroutine is stranded for good. Open gives up
// on it after OpenTimeout (bounded, in log.go): that is why bounded exists.
func TestMain(m *testing.M) {
	// The client logs to stderr through the standard log package; keep
	// warnings (a test that breaks connections makes some) and drop chatter.
	SetClientLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream.(*Client).getSaslMechanisms"))
}

const defaultTestURL = "rabbitmq-stream://guest:guest@localhost:5552/"

// testURL is the stream listener tests use: OMS_STREAM_URL or localhost.
func testURL() string {
	if u := os.Getenv("OMS_STREAM_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

var (
	pingOnce sync.Once
	pingErr  error
)

// requireBroker skips the test when no stream listener answers, or fails
// it when OMS_REQUIRE_BROKER=1.
func requireBroker(t testing.TB) {
	t.Helper()
	pingOnce.Do(func() { pingErr = Ping(context.Background(), testURL()) })
	if pingErr != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no RabbitMQ stream listener at %s: %v (OMS_REQUIRE_BROKER=1; enable it with `rabbitmq-plugins enable rabbitmq_stream`)", redact(testURL()), pingErr)
		}
		t.Skipf("no RabbitMQ stream listener at %s: %v; skipping (enable it with `rabbitmq-plugins enable rabbitmq_stream`; set OMS_REQUIRE_BROKER=1 to fail instead)", redact(testURL()), pingErr)
	}
}

// uniqueStream returns a stream name unique across runs and engineers.
func uniqueStream(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "test." + hex.EncodeToString(b[:]) + "." + brokertest.SafeName(t)
}

// testConfig returns a Config for a fresh stream on url, deleted at
// cleanup (registered first, so it runs after the Logs' Close).
func testConfig(t testing.TB, url string) Config {
	t.Helper()
	requireBroker(t)
	cfg := Config{
		URL:    url,
		Stream: uniqueStream(t),
		Name:   "oms-sim-test",
		Logger: testLogger(t),
	}
	t.Cleanup(func() { deleteStream(t, cfg) })
	return cfg
}

func deleteStream(t testing.TB, cfg Config) {
	cfg.setDefaults()
	ep, err := parseURL(cfg.URL)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	cfg.URL = withPort(cfg.URL, ep)
	env, err := newEnv(cfg, ep)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer env.Close()
	if err := env.DeleteStream(cfg.Stream); err != nil {
		t.Errorf("cleanup: delete stream %q: %v", cfg.Stream, err)
	}
}

// openLog opens a Log closed at cleanup.
func openLog(t testing.TB, cfg Config) *Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

// testLogger logs through t.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// event returns the i-th test event of order id.
func event(run, id string, i int) engine.Event {
	return engine.Event{
		RunID:   run,
		OrderID: id,
		Type:    engine.EventAccepted,
		Stage:   "api",
		Worker:  "api-1",
		Process: "test",
		Time:    time.Now().UTC(),
		Detail:  fmt.Sprint(i),
	}
}

// collector records what a subscriber receives.
type collector struct {
	mu     sync.Mutex
	events []engine.Event
	notify chan struct{}
}

func newCollector() *collector { return &collector{notify: make(chan struct{}, 1)} }

func (c *collector) add(ev engine.Event) {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

func (c *collector) snapshot() []engine.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]engine.Event(nil), c.events...)
}

// waitFor waits until c holds n events or fails the test after timeout.
func (c *collector) waitFor(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for c.len() < n {
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("received %d of %d events within %v", c.len(), n, timeout)
		}
	}
}

// rabbitmqctl runs the broker's CLI, skipping the test when it is not
// installed here (a remote broker) — failing it under OMS_REQUIRE_BROKER=1.
func rabbitmqctl(t testing.TB, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("rabbitmqctl not installed (OMS_REQUIRE_BROKER=1): %v", err)
		}
		t.Skipf("rabbitmqctl not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func splitLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
