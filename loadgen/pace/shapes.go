package pace

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Shape is an offered rate over time, measured from the start of its phase.
type Shape interface {
	// Rate is the instantaneous rate at t, in sends per second.
	Rate(t time.Duration) float64
	// Hits is the expected number of sends in [0, t): the integral of
	// Rate. It must never decrease.
	Hits(t time.Duration) float64
}

// inverter is implemented by shapes whose Hits can be inverted in closed
// form; it returns the time in seconds at which Hits reaches h.
type inverter interface {
	at(h float64) float64
}

// secondsShape is implemented by the built-in shapes: Rate and Hits on
// float seconds, so that inversion is not limited to nanosecond steps.
type secondsShape interface {
	rate(x float64) float64
	hits(x float64) float64
}

// checker is implemented by the built-in shapes to reject parameters that
// would make Hits decrease or be undefined.
type checker interface {
	check() error
}

// secs converts t to seconds, treating negative times as 0.
func secs(t time.Duration) float64 { return max(t, 0).Seconds() }

// Constant is a steady rate.
type Constant struct {
	PerSecond float64
}

// Rate implements Shape.
func (c Constant) Rate(time.Duration) float64 { return c.PerSecond }

// Hits implements Shape.
func (c Constant) Hits(t time.Duration) float64 { return c.hits(secs(t)) }

func (c Constant) rate(float64) float64   { return c.PerSecond }
func (c Constant) hits(x float64) float64 { return c.PerSecond * x }

func (c Constant) at(h float64) float64 { return h / c.PerSecond }

func (c Constant) check() error {
	if !(c.PerSecond >= 0) || math.IsInf(c.PerSecond, 0) {
		return fmt.Errorf("constant rate %g/s must be finite and ≥ 0", c.PerSecond)
	}
	return nil
}

// Linear ramps from From to To (per second) over Over, then holds To.
type Linear struct {
	From, To float64
	Over     time.Duration
}

// Rate implements Shape.
func (l Linear) Rate(t time.Duration) float64 { return l.rate(secs(t)) }

// Hits implements Shape.
func (l Linear) Hits(t time.Duration) float64 { return l.hits(secs(t)) }

func (l Linear) rate(x float64) float64 {
	T := l.Over.Seconds()
	if x >= T {
		return l.To
	}
	return l.From + (l.To-l.From)*x/T
}

func (l Linear) hits(x float64) float64 {
	T := l.Over.Seconds()
	if x >= T {
		return (l.From+l.To)/2*T + l.To*(x-T)
	}
	return l.From*x + (l.To-l.From)*x*x/(2*T)
}

// at solves From·x + k·x²/2 = h with k the slope, in the form that stays
// accurate when the slope is near zero.
func (l Linear) at(h float64) float64 {
	T := l.Over.Seconds()
	if hT := (l.From + l.To) / 2 * T; h > hT {
		return T + (h-hT)/l.To
	}
	k := (l.To - l.From) / T
	disc := l.From*l.From + 2*k*h
	if disc < 0 {
		disc = 0
	}
	den := l.From + math.Sqrt(disc)
	if den == 0 {
		return 0
	}
	return 2 * h / den
}

func (l Linear) check() error {
	if !(l.From >= 0) || !(l.To >= 0) || math.IsInf(l.From, 0) || math.IsInf(l.To, 0) {
		return fmt.Errorf("ramp rates %g/s → %g/s must be finite and ≥ 0", l.From, l.To)
	}
	if l.Over <= 0 {
		return errors.New("ramp length must be positive")
	}
	return nil
}

// Step is a staircase: Levels[i] (per second) during [i·Every, (i+1)·Every),
// with the last level holding afterwards.
type Step struct {
	Levels []float64
	Every  time.Duration
}

// Rate implements Shape.
func (s Step) Rate(t time.Duration) float64 { return s.rate(secs(t)) }

// Hits implements Shape.
func (s Step) Hits(t time.Duration) float64 { return s.hits(secs(t)) }

func (s Step) rate(x float64) float64 {
	i := min(int(x/s.Every.Seconds()), len(s.Levels)-1)
	return s.Levels[max(i, 0)]
}

func (s Step) hits(x float64) float64 {
	e := s.Every.Seconds()
	var h float64
	for i, r := range s.Levels {
		if i == len(s.Levels)-1 || x < float64(i+1)*e {
			return h + r*(x-float64(i)*e)
		}
		h += r * e
	}
	return h
}

func (s Step) check() error {
	if len(s.Levels) == 0 {
		return errors.New("step needs at least one level")
	}
	for _, r := range s.Levels {
		if !(r >= 0) || math.IsInf(r, 0) {
			return fmt.Errorf("step level %g/s must be finite and ≥ 0", r)
		}
	}
	if s.Every <= 0 {
		return errors.New("step length must be positive")
	}
	return nil
}

// Sine swings around Mean by Amplitude (per second) once per Period,
// starting at the mean and rising.
type Sine struct {
	Mean, Amplitude float64
	Period          time.Duration
}

// Rate implements Shape.
func (s Sine) Rate(t time.Duration) float64 { return s.rate(secs(t)) }

// Hits implements Shape.
func (s Sine) Hits(t time.Duration) float64 { return s.hits(secs(t)) }

func (s Sine) rate(x float64) float64 {
	return s.Mean + s.Amplitude*math.Sin(2*math.Pi*x/s.Period.Seconds())
}

func (s Sine) hits(x float64) float64 {
	p := s.Period.Seconds()
	return s.Mean*x + s.Amplitude*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/p))
}

func (s Sine) check() error {
	if !(s.Mean > 0) || !(s.Amplitude >= 0) || s.Amplitude > s.Mean || math.IsInf(s.Mean, 0) {
		return fmt.Errorf("sine needs mean > 0 and 0 ≤ amplitude ≤ mean, got mean %g/s, amplitude %g/s", s.Mean, s.Amplitude)
	}
	if s.Period <= 0 {
		return errors.New("sine period must be positive")
	}
	return nil
}

// Burst runs at Base (per second) with a jump to Peak lasting For at
// Every, 2·Every, … from the start: the phase opens quietly.
type Burst struct {
	Base, Peak float64
	Every, For time.Duration
}

// Rate implements Shape.
func (b Burst) Rate(t time.Duration) float64 { return b.rate(secs(t)) }

// Hits implements Shape.
func (b Burst) Hits(t time.Duration) float64 { return b.hits(secs(t)) }

func (b Burst) rate(x float64) float64 {
	e := b.Every.Seconds()
	if x >= e && x-math.Floor(x/e)*e < b.For.Seconds() {
		return b.Peak
	}
	return b.Base
}

func (b Burst) hits(x float64) float64 {
	e, f := b.Every.Seconds(), b.For.Seconds()
	n := math.Floor(x / e)
	var bursting float64 // seconds spent at Peak before x
	if n >= 1 {
		bursting = (n-1)*f + min(f, x-n*e)
	}
	return b.Base*x + (b.Peak-b.Base)*bursting
}

func (b Burst) check() error {
	if !(b.Base >= 0) || !(b.Peak >= 0) || math.IsInf(b.Base, 0) || math.IsInf(b.Peak, 0) {
		return fmt.Errorf("burst rates %g/s and %g/s must be finite and ≥ 0", b.Base, b.Peak)
	}
	if b.Every <= 0 || b.For <= 0 || b.For >= b.Every {
		return fmt.Errorf("burst needs 0 < for < every, got for %s, every %s", b.For, b.Every)
	}
	return nil
}

// invert returns the earliest time in [0, limit] at which s.Hits reaches h
// (h must not exceed s.Hits(limit)). It uses the closed form when the shape
// has one, otherwise Newton's method kept inside a shrinking bracket, which
// falls back to bisection where the rate is zero or jumps. A hint (from,
// fromH) with s.Hits(from) = fromH ≤ h, such as the previous send, narrows
// the bracket and seeds Newton; pass 0, 0 for none.
func invert(s Shape, h float64, limit time.Duration, from, fromH float64) float64 {
	if h <= 0 {
		return 0
	}
	var x float64
	if inv, ok := s.(inverter); ok {
		x = inv.at(h)
	} else {
		x = solve(s, h, limit.Seconds(), from, fromH)
	}
	return min(max(x, 0), limit.Seconds())
}

// seconds converts a time in seconds to a Duration, rounding to the
// nearest nanosecond.
func seconds(x float64) time.Duration { return time.Duration(math.Round(x * 1e9)) }

func solve(s Shape, h, limit, from, fromH float64) float64 {
	hits := func(x float64) float64 { return s.Hits(time.Duration(x * 1e9)) }
	rate := func(x float64) float64 { return s.Rate(time.Duration(x * 1e9)) }
	if fs, ok := s.(secondsShape); ok {
		hits, rate = fs.hits, fs.rate
	}
	lo, hi := 0.0, limit
	x := limit / 2
	if total := hits(limit); total > 0 {
		x = limit * h / total // exact for a constant rate
	}
	if from > 0 && from < limit && fromH <= h {
		lo = from
		if r := rate(from); r > 0 {
			x = from + (h-fromH)/r
		}
		if !(x > lo && x < hi) {
			x = lo + (hi-lo)/2
		}
	}
	for range 200 {
		f := hits(x) - h
		if f == 0 {
			return x
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		if hi-lo < 1e-10 {
			return hi
		}
		next := math.NaN()
		if r := rate(x); r > 0 {
			next = x - f/r
			if math.Abs(next-x) < 1e-11 {
				return max(next, lo) // Newton has converged
			}
		}
		if !(next > lo && next < hi) {
			next = lo + (hi-lo)/2 // no slope, or Newton left the bracket
		}
		x = next
	}
	return hi
}
