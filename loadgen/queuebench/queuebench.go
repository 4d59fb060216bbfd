// Package queuebench measures the current broker by queue type: for each
// of classic, quorum and stream it publishes persistent messages with
// confirms (a bounded number outstanding) while a consumer reads them, and
// reports publish and consume rates and publish → consume latency, side
// by side in one run. Classic and quorum queues are measured over AMQP
// 0-9-1 with manual acks; streams over the stream protocol, which is how
// streams are meant to be read.
package queuebench

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Queue types.
const (
	Classic = "classic"
	Quorum  = "quorum"
	Stream  = "stream"
)

// Config configures a run.
type Config struct {
	AMQPURL   string
	StreamURL string
	// TLS configures amqps:// and rabbitmq-stream+tls:// connections
	// (nil: the system's roots); each connection uses a copy.
	TLS      *tls.Config `json:"-"`
	Types    []string
	Warmup   time.Duration // not measured
	Duration time.Duration // measured
	Size     int           // message body bytes
	InFlight int           // unconfirmed publishes at most
	Prefetch int           // consumer prefetch (AMQP) / credits (stream)
	// SocketBuffer is the stream connections' TCP buffer size. The
	// client's default (8 KiB) stalls a stream consumer on a loopback
	// with a 64 KiB MTU.
	SocketBuffer int
	Prefix       string // queue names: <prefix>.<type>.<pid>
}

// Defaults.
const (
	DefaultSize         = 256
	DefaultInFlight     = 200
	DefaultPrefetch     = 300
	DefaultSocketBuffer = 1 << 20
)

func (c *Config) setDefaults() {
	c.Size = cmp.Or(c.Size, DefaultSize)
	c.InFlight = cmp.Or(c.InFlight, DefaultInFlight)
	c.Prefetch = cmp.Or(c.Prefetch, DefaultPrefetch)
	c.SocketBuffer = cmp.Or(c.SocketBuffer, DefaultSocketBuffer)
	c.Prefix = cmp.Or(c.Prefix, "oms-bench")
	c.Duration = cmp.Or(c.Duration, 20*time.Second)
}

// Validate reports every problem.
func (c Config) Validate() error {
	var errs []error
	if len(c.Types) == 0 {
		errs = append(errs, errors.New("no queue types: want some of classic, quorum, stream"))
	}
	for _, t := range c.Types {
		if t != Classic && t != Quorum && t != Stream {
			errs = append(errs, fmt.Errorf("queue type %q: valid are classic, quorum, stream", t))
		}
	}
	if c.Size < 8 || c.Size > 1<<20 {
		errs = append(errs, fmt.Errorf("size must be 8..1048576 bytes, got %d", c.Size))
	}
	if c.InFlight < 1 || c.Prefetch < 1 {
		errs = append(errs, fmt.Errorf("in-flight and prefetch must be at least 1"))
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("duration must be positive and warmup not negative"))
	}
	return errors.Join(errs...)
}

// Result is one queue type's figures over the measured window.
type Result struct {
	Type        string  `json:"type"`
	Published   int64   `json:"published"`
	Consumed    int64   `json:"consumed"`
	PublishRate float64 `json:"publish_per_s"`
	ConsumeRate float64 `json:"consume_per_s"`
	P50         float64 `json:"latency_p50_ms"`
	P99         float64 `json:"latency_p99_ms"`
	Max         float64 `json:"latency_max_ms"`
	Err         string  `json:"error,omitempty"`
}

// Run measures each type in turn (never concurrently: they would compete
// for the same broker and cores).
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range cfg.Types {
		if ctx.Err() != nil {
			break
		}
		r, err := runOne(ctx, cfg, t)
		r.Type = t
		if err != nil {
			r.Err = err.Error()
		}
		out = append(out, r)
	}
	return out, ctx.Err()
}

// meter counts a run's messages inside the measured window and records
// latency from the timestamp each message carries.
type meter struct {
	start, from, to     time.Time
	published, consumed atomic.Int64
	mu                  sync.Mutex
	lat                 *hdrhistogram.Histogram
}

func newMeter(warmup, d time.Duration) *meter {
	now := time.Now()
	return &meter{start: now, from: now.Add(warmup), to: now.Add(warmup + d),
		lat: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)}
}

func (m *meter) inWindow(t time.Time) bool { return !t.Before(m.from) && t.Before(m.to) }

func (m *meter) onPublished(t time.Time) {
	if m.inWindow(t) {
		m.published.Add(1)
	}
}

func (m *meter) onConsumed(sentNs int64) {
	now := time.Now()
	if !m.inWindow(now) {
		return
	}
	m.consumed.Add(1)
	us := now.Sub(time.Unix(0, sentNs)).Microseconds()
	m.mu.Lock()
	_ = m.lat.RecordValue(max(1, min(us, m.lat.HighestTrackableValue())))
	m.mu.Unlock()
}

func (m *meter) result() Result {
	secs := m.to.Sub(m.from).Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Result{
		Published: m.published.Load(), Consumed: m.consumed.Load(),
		PublishRate: float64(m.published.Load()) / secs, ConsumeRate: float64(m.consumed.Load()) / secs,
		P50: ms(m.lat.ValueAtQuantile(50)), P99: ms(m.lat.ValueAtQuantile(99)), Max: ms(m.lat.Max()),
	}
}

func queueName(cfg Config, typ string) string {
	return cfg.Prefix + "." + typ + "." + strconv.Itoa(os.Getpid())
}

func runOne(ctx context.Context, cfg Config, typ string) (Result, error) {
	if typ == Stream {
		return runStream(ctx, cfg)
	}
	return runAMQP(ctx, cfg, typ)
}
