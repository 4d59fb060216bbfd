package engine

import (
	"math"
	"runtime/metrics"
	"testing"
	"time"
)

// TestWindowP99 takes the p99 of what a histogram gained since the last
// reading, not of its whole history.
func TestWindowP99(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{0, 0.001, 0.01, 0.1, math.Inf(1)},
		Counts:  []uint64{1000, 0, 0, 0},
	}
	last := []uint64{0, 0, 0, 0}
	if got := windowP99(h, last); got != time.Millisecond {
		t.Errorf("1000 waits under 1 ms: p99 %v, want the bucket's bound 1ms", got)
	}
	// The next window: 98 quick waits, 2 of 10–100 ms. The old 1000
	// quick ones must not dilute them.
	copy(last, h.Counts)
	h.Counts = []uint64{1098, 0, 0, 2}
	if got := windowP99(h, last); got != 100*time.Millisecond {
		t.Errorf("2 of 100 waits over 10 ms: p99 %v, want 100ms", got)
	}
	copy(last, h.Counts)
	if got := windowP99(h, last); got != -1 {
		t.Errorf("nothing new: p99 %v, want -1 (unknown)", got)
	}
	// The open-ended bucket reports its lower bound.
	h.Counts = []uint64{1098, 0, 0, 12}
	if got := windowP99(h, last); got != 100*time.Millisecond {
		t.Errorf("waits beyond the last bound: p99 %v, want its lower bound 100ms", got)
	}
}

// TestSchedMeterReadsTheRuntime: the runtime exports the histogram, and a
// second of goroutines switching gives a figure.
func TestSchedMeterReadsTheRuntime(t *testing.T) {
	m := newSchedMeter()
	done := make(chan struct{})
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					return
				default:
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	close(done)
	m.sample()
	if m.p99 < 0 || m.p99 > time.Second {
		t.Errorf("p99 %v after 200 ms of goroutines waking: want a reading below 1 s", m.p99)
	}
}
