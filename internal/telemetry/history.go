package telemetry

import "sync"

// History is a fixed-length series of the last values, oldest first,
// sampled once a second for sparklines. It is safe for concurrent use.
type History struct {
	mu   sync.Mutex
	vals []float64
	max  int
}

// NewHistory returns an empty History of at most n values.
func NewHistory(n int) *History { return &History{max: n} }

// Add appends v, forgetting the oldest value when full.
func (h *History) Add(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.vals) == h.max {
		copy(h.vals, h.vals[1:])
		h.vals = h.vals[:h.max-1]
	}
	h.vals = append(h.vals, v)
}

// Values returns a copy of the values, oldest first.
func (h *History) Values() []float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]float64(nil), h.vals...)
}
