package engine

import (
	"math"
	"runtime/metrics"
	"time"
)

// schedMeter reads the Go runtime's scheduling latencies — how long
// goroutines waited, runnable, before a thread ran them — and keeps the
// last window's p99. When it is high, this process's goroutines queue for
// a CPU: the load generator's pacer among them, whose sends then leave late
// (bench/RESULTS.md §28 traced the late sends to this queueing).
type schedMeter struct {
	s    []metrics.Sample
	last []uint64
	p99  time.Duration // -1: unknown
}

const schedLatencies = "/sched/latencies:seconds"

func newSchedMeter() *schedMeter {
	m := &schedMeter{s: []metrics.Sample{{Name: schedLatencies}}, p99: -1}
	m.sample()
	return m
}

// sample reads the histogram and sets p99 to the 99th percentile of the
// latencies recorded since the previous sample (-1 when there were none
// or the runtime does not export them).
func (m *schedMeter) sample() {
	metrics.Read(m.s)
	if m.s[0].Value.Kind() != metrics.KindFloat64Histogram {
		m.p99 = -1
		return
	}
	h := m.s[0].Value.Float64Histogram()
	if len(m.last) != len(h.Counts) {
		m.last = append(m.last[:0], h.Counts...)
		m.p99 = -1
		return
	}
	m.p99 = windowP99(h, m.last)
	copy(m.last, h.Counts)
}

// windowP99 is the p99 of the counts added to h since last (the bucket's
// upper bound, or its lower one for the open-ended last bucket); -1 when
// nothing was added.
func windowP99(h *metrics.Float64Histogram, last []uint64) time.Duration {
	var total uint64
	for i, c := range h.Counts {
		total += c - last[i]
	}
	if total == 0 {
		return -1
	}
	want := uint64(math.Ceil(float64(total) * 0.99))
	var seen uint64
	for i, c := range h.Counts {
		seen += c - last[i]
		if seen >= want {
			b := h.Buckets[i+1]
			if math.IsInf(b, 1) {
				b = h.Buckets[i]
			}
			return time.Duration(b * float64(time.Second))
		}
	}
	return -1
}
