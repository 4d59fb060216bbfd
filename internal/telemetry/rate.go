package telemetry

import (
	"sync"
	"time"
)

// Rate turns a monotonically increasing counter, sampled regularly (a few
// times a second), into per-second rates over recent windows. It keeps the
// last 64 samples: enough for 10 s at 4 Hz plus slack. The zero value is
// ready to use; it is safe for concurrent use.
type Rate struct {
	mu      sync.Mutex
	samples [64]rateSample // ring
	next    int
	n       int
}

type rateSample struct {
	at time.Time
	v  int64
}

// Add records the counter's value v at time at.
func (r *Rate) Add(at time.Time, v int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples[r.next] = rateSample{at, v}
	r.next = (r.next + 1) % len(r.samples)
	if r.n < len(r.samples) {
		r.n++
	}
}

// Per returns the average rate per second over roughly the last window:
// from the newest sample back to the first at least window older (or the
// oldest kept). 0 until two samples are in.
func (r *Rate) Per(window time.Duration) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
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

// Span returns the time between the oldest and newest samples kept.
func (r *Rate) Span() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n < 2 {
		return 0
	}
	last := r.samples[(r.next-1+len(r.samples))%len(r.samples)]
	first := r.samples[(r.next-r.n+len(r.samples))%len(r.samples)]
	return last.at.Sub(first.at)
}
