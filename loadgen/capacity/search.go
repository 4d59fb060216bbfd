package capacity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"oms-sim/loadgen/scenario"
)

// Defaults of a Search (the capacity command's flag defaults).
const (
	DefaultStart     = 100.0 // orders/s
	DefaultFactor    = 2.0
	DefaultPrecision = 0.05
	DefaultMaxTime   = 5 * time.Minute
)

// Steps of a search, as recorded in Probe.Step.
const (
	StepRamp   = "ramp"
	StepBisect = "bisect"
)

// Reasons a search stopped, as recorded in Result.Stop.
const (
	StopPrecision   = "precision"    // the knee is known to within Precision
	StopMaxTime     = "max-time"     // another probe would not fit in MaxTime
	StopMaxRate     = "max-rate"     // MaxRate passed: the knee is above it
	StopStartFailed = "start-failed" // even the start rate failed
	StopInterrupted = "interrupted"  // the context ended
)

// ProbeFunc offers rate orders/s for one probe and says whether the system
// sustained it. An error ends the search (a probe that merely failed is a
// Probe with Pass false, not an error).
type ProbeFunc func(ctx context.Context, rate float64) (Probe, error)

// Search finds the knee: the highest rate whose probe passes. It ramps
// from Start by Factor while probes pass, then bisects between the last
// pass and the first failure until they are within Precision of each
// other or MaxTime would be exceeded. It assumes that a rate above one
// that fails fails too; on a noisy machine the knee is the highest rate
// that passed when probed.
type Search struct {
	Start     float64       // first rate, orders/s; default DefaultStart
	Factor    float64       // ramp multiplier, > 1; default DefaultFactor
	Precision float64       // stop when (fail − pass) ≤ Precision × pass; default DefaultPrecision
	MaxTime   time.Duration // no probe starts that would likely end after it; default DefaultMaxTime
	// MaxRate caps the ramp (default scenario.MaxRate): a pass there ends
	// the search with the knee at or above it.
	MaxRate float64
	// OnProbe, when set, sees each probe as it ends (progress lines).
	OnProbe func(Probe)
	// Now is the clock; default time.Now (tests pass a fake one).
	Now func() time.Time
}

// Result is a search's outcome.
type Result struct {
	Probes []Probe // in the order they ran
	// Knee is the highest passing rate; Found is false when none passed.
	Knee  float64
	Found bool
	// Fail is the lowest failing rate above the knee, 0 if none failed.
	Fail    float64
	Stop    string
	Elapsed time.Duration
}

func (s *Search) setDefaults() {
	s.Start = cmp.Or(s.Start, DefaultStart)
	s.Factor = cmp.Or(s.Factor, DefaultFactor)
	s.Precision = cmp.Or(s.Precision, DefaultPrecision)
	s.MaxTime = cmp.Or(s.MaxTime, DefaultMaxTime)
	s.MaxRate = cmp.Or(s.MaxRate, scenario.MaxRate.PerSecond())
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Validate reports every bad setting at once (zero values take defaults).
func (s Search) Validate() error {
	s.setDefaults()
	var errs []error
	if !(s.Start > 0) || s.Start > s.MaxRate {
		errs = append(errs, fmt.Errorf("start rate %g/s: must be above 0 and at most %g/s", s.Start, s.MaxRate))
	}
	if !(s.Factor > 1) || s.Factor > 100 {
		errs = append(errs, fmt.Errorf("factor %g: must be above 1 (and at most 100)", s.Factor))
	}
	if !(s.Precision > 0) || s.Precision >= 1 {
		errs = append(errs, fmt.Errorf("precision %g: must be above 0 and below 1, like 0.05 for 5%%", s.Precision))
	}
	if s.MaxTime < 0 {
		errs = append(errs, fmt.Errorf("max time %v: must be positive", s.MaxTime))
	}
	return errors.Join(errs...)
}

// Run searches, calling probe once per rate. It always runs at least the
// first probe; later ones start only when the longest probe so far would
// still end within MaxTime.
func (s Search) Run(ctx context.Context, probe ProbeFunc) (Result, error) {
	s.setDefaults()
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	start := s.Now()
	var (
		res     Result
		longest time.Duration
	)
	// try runs one probe; it reports false when the search must stop.
	try := func(rate float64, step string) (Probe, bool, error) {
		if len(res.Probes) > 0 && s.Now().Sub(start)+longest > s.MaxTime {
			res.Stop = StopMaxTime
			return Probe{}, false, nil
		}
		t0 := s.Now()
		p, err := probe(ctx, rate)
		if err != nil {
			return p, false, fmt.Errorf("probe at %s: %w", FormatRate(rate), err)
		}
		longest = max(longest, s.Now().Sub(t0))
		p.Rate, p.Step = rate, step
		res.Probes = append(res.Probes, p)
		if s.OnProbe != nil {
			s.OnProbe(p)
		}
		if p.Interrupted || ctx.Err() != nil {
			res.Stop = StopInterrupted
			return p, false, nil
		}
		return p, true, nil
	}
	defer func() { res.Elapsed = s.Now().Sub(start) }()

	// Ramp.
	rate := s.Start
	for {
		p, ok, err := try(rate, StepRamp)
		if err != nil || !ok {
			return res, err
		}
		if !p.Pass {
			res.Fail = rate
			break
		}
		res.Knee, res.Found = rate, true
		if rate >= s.MaxRate {
			res.Stop = StopMaxRate
			return res, nil
		}
		rate = min(rate*s.Factor, s.MaxRate)
	}
	if !res.Found {
		res.Stop = StopStartFailed
		return res, nil
	}
	// Bisect between the knee (passed) and Fail.
	for {
		if res.Fail-res.Knee <= s.Precision*res.Knee {
			res.Stop = StopPrecision
			return res, nil
		}
		mid := (res.Knee + res.Fail) / 2
		if res.Fail-res.Knee >= 4 {
			mid = math.Round(mid) // whole rates read better, and 1/s apart is precise enough
		}
		p, ok, err := try(mid, StepBisect)
		if err != nil || !ok {
			return res, err
		}
		if p.Pass {
			res.Knee = mid
		} else {
			res.Fail = mid
		}
	}
}

// FormatRate formats orders/s compactly: 137/s, 12.5/s.
func FormatRate(r float64) string {
	if r >= 100 || r == math.Trunc(r) {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.3g/s", r)
}
