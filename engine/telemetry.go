package engine

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

// histMax is the largest latency recorded exactly (µs); larger values are
// clamped so a stuck message never drops out of the figures.
const histMax = int64(time.Hour / time.Microsecond)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMax, 3) }

// latency records durations into two HdrHistograms: one for the whole run
// and a sliding window (the current and previous windowLen) for live views.
type latency struct {
	mu      sync.Mutex
	total   *hdrhistogram.Histogram
	cur     *hdrhistogram.Histogram
	prev    *hdrhistogram.Histogram
	scratch *hdrhistogram.Histogram // for Recent, reused: no garbage per snapshot
	rotated time.Time
	// obs, when set (before the first record), also gets every duration:
	// the Prometheus histogram, which is never reset.
	obs prometheus.Observer
}

// windowLen is how long a live-view window lasts; live percentiles cover
// between one and two of them.
const windowLen = 5 * time.Second

func newLatency() *latency {
	return &latency{total: newHist(), cur: newHist(), prev: newHist(), scratch: newHist(), rotated: time.Now()}
}

func (l *latency) record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 1 {
		us = 1
	}
	if us > histMax {
		us = histMax
	}
	l.mu.Lock()
	l.rotateLocked(time.Now())
	_ = l.total.RecordValue(us)
	_ = l.cur.RecordValue(us)
	l.mu.Unlock()
	if l.obs != nil {
		l.obs.Observe(d.Seconds())
	}
}

func (l *latency) rotateLocked(now time.Time) {
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
func (l *latency) Total() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	return summarize(l.total)
}

// Recent summarises the last 5–10 seconds.
func (l *latency) Recent() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotateLocked(time.Now())
	l.scratch.Reset()
	l.scratch.Merge(l.prev)
	l.scratch.Merge(l.cur)
	return summarize(l.scratch)
}

// Recorder is a latency distribution kept the way the engine keeps its
// own (HdrHistogram, the whole run and the last 5–10 s), for callers
// outside the engine. It is safe for concurrent use.
type Recorder struct{ l *latency }

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{l: newLatency()} }

// Record adds one duration.
func (r *Recorder) Record(d time.Duration) { r.l.record(d) }

// Recent summarises the last 5–10 s.
func (r *Recorder) Recent() Percentiles { return r.l.Recent() }

// RecentMean is the mean of the last 5–10 s, without merging the two
// windows (the 4 Hz load figures need only this).
func (l *latency) RecentMean() time.Duration {
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

func (l *latency) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total.Reset()
	l.cur.Reset()
	l.prev.Reset()
}

func summarize(h *hdrhistogram.Histogram) Percentiles {
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

// rate turns a monotonically increasing counter, sampled regularly, into
// per-second rates over recent windows.
type rate struct {
	samples [64]rateSample // ring, enough for 10 s at 4 Hz plus slack
	next    int
	n       int
}

type rateSample struct {
	at time.Time
	v  int64
}

func (r *rate) add(at time.Time, v int64) {
	r.samples[r.next] = rateSample{at, v}
	r.next = (r.next + 1) % len(r.samples)
	if r.n < len(r.samples) {
		r.n++
	}
}

// per returns the average rate per second over roughly the last window.
func (r *rate) per(window time.Duration) float64 {
	if r.n < 2 {
		return 0
	}
	last := r.samples[(r.next-1+len(r.samples))%len(r.samples)]
	first := last
	for i := 2; i <= r.n; i++ {
		s := r.samples[(r.next-i+len(r.samples))%len(r.samples)]
		first = s
		if last.at.Sub(s.at) >= window {
			break
		}
	}
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(last.v-first.v) / dt
}

// span returns the time between the oldest and newest samples kept.
func (r *rate) span() time.Duration {
	if r.n < 2 {
		return 0
	}
	last := r.samples[(r.next-1+len(r.samples))%len(r.samples)]
	first := r.samples[(r.next-r.n+len(r.samples))%len(r.samples)]
	return last.at.Sub(first.at)
}

// history is a fixed-length series of the last values, oldest first,
// sampled once a second for sparklines.
type history struct {
	vals []float64
	max  int
}

func newHistory(n int) *history { return &history{max: n} }

func (h *history) add(v float64) {
	if len(h.vals) == h.max {
		copy(h.vals, h.vals[1:])
		h.vals = h.vals[:h.max-1]
	}
	h.vals = append(h.vals, v)
}

func (h *history) copy() []float64 { return append([]float64(nil), h.vals...) }
