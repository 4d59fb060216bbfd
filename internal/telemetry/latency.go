// Package telemetry owns the figures the engine and the load generator
// both keep: latency distributions (HdrHistogram, the whole run and a
// sliding window), their percentiles, rates from sampled counters, and
// short histories for sparklines. Latency, Rate and History are safe for
// concurrent use.
package telemetry

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
)

// Percentiles summarises a latency distribution.
type Percentiles struct {
	Count int64         `json:"count"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	P999  time.Duration `json:"p999"`
	Max   time.Duration `json:"max"`
}

// Millis is a distribution in milliseconds, as reports carry it.
type Millis struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// Millis returns p in milliseconds (without the mean).
func (p Percentiles) Millis() Millis {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Millis{Count: p.Count, P50: ms(p.P50), P90: ms(p.P90), P99: ms(p.P99), P999: ms(p.P999), Max: ms(p.Max)}
}

// HistMax is the largest latency recorded exactly (µs); larger values are
// clamped so a stuck message never drops out of the figures.
const HistMax = int64(time.Hour / time.Microsecond)

// NewHistogram returns an empty HdrHistogram of microseconds, 1 µs to
// HistMax at 3 significant digits: the one every latency here uses. It
// is not safe for concurrent use; Record into it with Record.
func NewHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, HistMax, 3) }

// Record adds d to h in microseconds, clamped to 1 µs … HistMax.
func Record(h *hdrhistogram.Histogram, d time.Duration) {
	_ = h.RecordValue(clampUS(d))
}

func clampUS(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < 1 {
		us = 1
	}
	if us > HistMax {
		us = HistMax
	}
	return us
}

// Latency records durations into two HdrHistograms: one for the whole run
// and a sliding window (the current and previous windowLen) for live views.
// It is safe for concurrent use.
type Latency struct {
	mu      sync.Mutex
	total   *hdrhistogram.Histogram
	cur     *hdrhistogram.Histogram
	prev    *hdrhistogram.Histogram
	scratch *hdrhistogram.Histogram // for Recent, reused: no garbage per snapshot
	rotated time.Time
	// obs, when set (before the first Record), also gets every duration:
	// the Prometheus histogram, which is never reset.
	obs prometheus.Observer
}

// windowLen is how long a live-view window lasts; live percentiles cover
// between one and two of them.
const windowLen = 5 * time.Second

// NewLatency returns an empty Latency.
func NewLatency() *Latency {
	return &Latency{total: NewHistogram(), cur: NewHistogram(), prev: NewHistogram(), scratch: NewHistogram(), rotated: time.Now()}
}

// SetObserver makes every duration recorded from now on go to obs as well
// (a Prometheus histogram, in seconds). Call it before the first Record.
func (l *Latency) SetObserver(obs prometheus.Observer) { l.obs = obs }

// Record adds one duration.
func (l *Latency) Record(d time.Duration) {
	us := clampUS(d)
	l.mu.Lock()
	l.rotateLocked(time.Now())
	_ = l.total.RecordValue(us)
	_ = l.cur.RecordValue(us)
	l.mu.Unlock()
	if l.obs != nil {
		l.obs.Observe(d.Seconds())
	}
}

func (l *Latency) rotateLocked(now time.Time) {
	if now.Sub(l.rotated) < windowLen {
		return
	}
	if now.Sub(l.rotated) >= 2*windowLen {
		l.prev.Reset()
	} else {
		l.prev, l.cur = l.cur, l.prev
	}
	l.cur.Reset()
	l.rotated = now
}

// Total summarises every value since start (or the last reset).
func (l *Latency) Total() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Summarize(l.total)
}

// Recent summarises the last 5–10 seconds.
func (l *Latency) Recent() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotateLocked(time.Now())
	l.scratch.Reset()
	l.scratch.Merge(l.prev)
	l.scratch.Merge(l.cur)
	return Summarize(l.scratch)
}

// RecentMean is the mean of the last 5–10 s, without merging the two
// windows (the 4 Hz load figures need only this).
func (l *Latency) RecentMean() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotateLocked(time.Now())
	n := l.prev.TotalCount() + l.cur.TotalCount()
	if n == 0 {
		return 0
	}
	sum := l.prev.Mean()*float64(l.prev.TotalCount()) + l.cur.Mean()*float64(l.cur.TotalCount())
	return time.Duration(sum / float64(n) * float64(time.Microsecond))
}

// Reset forgets every duration (the Prometheus observer keeps its own).
func (l *Latency) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total.Reset()
	l.cur.Reset()
	l.prev.Reset()
}

// Summarize returns h's percentiles; h holds microseconds.
func Summarize(h *hdrhistogram.Histogram) Percentiles {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}
