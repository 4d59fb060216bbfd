package pace

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Arrivals is how sends are spread within a phase.
type Arrivals int

const (
	// Uniform spaces sends evenly in expected-count terms: the k-th send of
	// a phase is due when the phase's Hits reaches k + ½, so a phase whose
	// rate integrates to N gets N sends, rounded to the nearest whole number
	// (halves down), and no send falls on a phase boundary.
	Uniform Arrivals = iota
	// Poisson draws exponential gaps (mean 1) in expected-count terms and
	// maps them through the phase's Hits: a non-homogeneous Poisson process
	// whose mean rate follows the shape.
	Poisson
)

// String names the arrival process as scenario files do.
func (a Arrivals) String() string {
	if a == Poisson {
		return "poisson"
	}
	return "uniform"
}

// Phase is one stretch of the schedule.
type Phase struct {
	Name     string
	Duration time.Duration
	Shape    Shape
	Arrivals Arrivals
}

// Phases is a Pacer that runs phases back to back, each from its own start:
// its intended send times are an absolute schedule from the start of the
// run. It is safe for concurrent use, and cheapest when sends are asked for
// in order.
type Phases struct {
	phases []Phase
	starts []time.Duration // offset of each phase from the start of the run
	totals []float64       // expected sends in each phase: Hits(Duration)
	total  time.Duration
	seed   uint64

	mu  sync.Mutex
	cur cursor
}

// cursor remembers where the last lookup ended, so that walking the sends in
// order costs O(1) each even for Poisson phases, whose send count is only
// known by drawing their gaps.
type cursor struct {
	phase  int        // phase being walked
	base   uint64     // global index of that phase's first send
	k      uint64     // Poisson: local index of the send due at target
	target float64    // Poisson: that send's point in the phase's Hits
	rng    *rand.Rand // Poisson: the phase's generator; nil until needed

	// The last answer in this phase, a starting point for the next one.
	lastH, lastX float64 // expected count and local time in seconds
}

var _ Pacer = (*Phases)(nil)

// New returns a Pacer over phases. seed drives the Poisson gaps; the same
// seed gives the same schedule.
func New(seed uint64, phases ...Phase) (*Phases, error) {
	if len(phases) == 0 {
		return nil, errors.New("pace: no phases")
	}
	p := &Phases{phases: phases, seed: seed}
	for i, ph := range phases {
		if ph.Duration <= 0 {
			return nil, fmt.Errorf("pace: phase %d (%s): duration %s must be positive", i, ph.Name, ph.Duration)
		}
		if ph.Shape == nil {
			return nil, fmt.Errorf("pace: phase %d (%s): no rate shape", i, ph.Name)
		}
		if c, ok := ph.Shape.(checker); ok {
			if err := c.check(); err != nil {
				return nil, fmt.Errorf("pace: phase %d (%s): %w", i, ph.Name, err)
			}
		}
		if ph.Arrivals != Uniform && ph.Arrivals != Poisson {
			return nil, fmt.Errorf("pace: phase %d (%s): unknown arrivals %d", i, ph.Name, ph.Arrivals)
		}
		h := ph.Shape.Hits(ph.Duration)
		if math.IsNaN(h) || math.IsInf(h, 0) || h < 0 {
			return nil, fmt.Errorf("pace: phase %d (%s): expected sends %g is not a finite count", i, ph.Name, h)
		}
		if p.total > math.MaxInt64-ph.Duration {
			return nil, errors.New("pace: phases too long")
		}
		p.starts = append(p.starts, p.total)
		p.totals = append(p.totals, h)
		p.total += ph.Duration
	}
	return p, nil
}

// Pace implements Pacer.
func (p *Phases) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	at, ok := p.Intended(sent)
	if !ok {
		return 0, true
	}
	if at <= elapsed {
		return 0, false // due or overdue: catch up without waiting
	}
	return at - elapsed, false
}

// Intended returns when send n (counting from 0) is due, from the start of
// the run, and false when the schedule has fewer than n+1 sends.
func (p *Phases) Intended(n uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := &p.cur
	if n < c.base {
		*c = cursor{}
	}
	for c.phase < len(p.phases) {
		i := c.phase
		ph, total := p.phases[i], p.totals[i]
		var count uint64
		switch ph.Arrivals {
		case Poisson:
			if c.rng != nil && n-c.base < c.k {
				c.rng = nil // asked for an earlier send: draw the phase again
			}
			if c.rng == nil {
				c.rng = rand.New(rand.NewPCG(p.seed, uint64(i)^0x9e3779b97f4a7c15))
				c.k, c.target = 0, c.rng.ExpFloat64()
			}
			for c.target < total {
				if n-c.base == c.k {
					return p.starts[i] + c.invert(ph, c.target), true
				}
				c.k++
				c.target += c.rng.ExpFloat64()
			}
			count = c.k
		default:
			count = uniformCount(total)
			if local := n - c.base; local < count {
				return p.starts[i] + c.invert(ph, float64(local)+0.5), true
			}
		}
		c.phase++
		c.base += count
		c.rng = nil
		c.lastH, c.lastX = 0, 0
	}
	return 0, false
}

// invert finds when the phase's Hits reaches h, starting from the previous
// answer when it is earlier.
func (c *cursor) invert(ph Phase, h float64) time.Duration {
	from, fromH := 0.0, 0.0
	if c.lastH <= h {
		from, fromH = c.lastX, c.lastH
	}
	x := invert(ph.Shape, h, ph.Duration, from, fromH)
	c.lastH, c.lastX = h, x
	// h is below the phase's total, so the send is due strictly before the
	// phase ends; keep rounding from moving it into the next phase.
	return min(seconds(x), ph.Duration-1)
}

// uniformCount is how many k ≥ 0 have k + ½ < total.
func uniformCount(total float64) uint64 {
	c := math.Ceil(total - 0.5)
	if c <= 0 {
		return 0
	}
	return uint64(c)
}

// Duration is the length of the whole schedule.
func (p *Phases) Duration() time.Duration { return p.total }

// Len is the number of phases.
func (p *Phases) Len() int { return len(p.phases) }

// Phase returns phase i.
func (p *Phases) Phase(i int) Phase { return p.phases[i] }

// Start returns the offset of phase i from the start of the run.
func (p *Phases) Start(i int) time.Duration { return p.starts[i] }

// Expected returns the expected number of sends in phase i: the integral
// of its rate over its duration (the target for "achieved vs target").
func (p *Phases) Expected(i int) float64 { return p.totals[i] }

// Index returns the phase running at t, clamped to the first and last.
func (p *Phases) Index(t time.Duration) int {
	i := 0
	for i+1 < len(p.starts) && t >= p.starts[i+1] {
		i++
	}
	return i
}

// Rate returns the offered rate at t, in sends per second; 0 outside the
// schedule.
func (p *Phases) Rate(t time.Duration) float64 {
	if t < 0 || t >= p.total {
		return 0
	}
	i := p.Index(t)
	return p.phases[i].Shape.Rate(t - p.starts[i])
}

// Hits returns the expected number of sends in [0, t).
func (p *Phases) Hits(t time.Duration) float64 {
	var h float64
	for i, ph := range p.phases {
		switch {
		case t >= p.starts[i]+ph.Duration:
			h += p.totals[i]
		case t > p.starts[i]:
			return h + ph.Shape.Hits(t-p.starts[i])
		default:
			return h
		}
	}
	return h
}
