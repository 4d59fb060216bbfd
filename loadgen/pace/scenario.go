package pace

import (
	"fmt"
	"time"

	"oms-sim/loadgen/scenario"
)

// FromScenario returns the Pacer for a validated scenario's phases, seeded
// with its seed.
func FromScenario(s *scenario.Scenario) (*Phases, error) {
	phases := make([]Phase, len(s.Phases))
	for i, sp := range s.Phases {
		ph, err := FromPhase(sp)
		if err != nil {
			return nil, fmt.Errorf("phases[%d]: %w", i, err)
		}
		phases[i] = ph
	}
	return New(s.Seed, phases...)
}

// FromPhase converts one scenario phase.
func FromPhase(sp scenario.Phase) (Phase, error) {
	d := time.Duration(sp.Duration)
	shape, err := ShapeFrom(sp.Rate, d)
	if err != nil {
		return Phase{}, err
	}
	ph := Phase{Name: sp.Name, Duration: d, Shape: shape}
	switch sp.Arrivals {
	case "", scenario.ArrivalsUniform:
		ph.Arrivals = Uniform
	case scenario.ArrivalsPoisson:
		ph.Arrivals = Poisson
	default:
		return Phase{}, fmt.Errorf("arrivals %q must be uniform or poisson", sp.Arrivals)
	}
	return ph, nil
}

// ShapeFrom converts a scenario rate for a phase lasting d.
func ShapeFrom(r scenario.RateSpec, d time.Duration) (Shape, error) {
	switch r.Kind() {
	case scenario.ShapeConstant:
		return Constant{PerSecond: r.Constant.PerSecond()}, nil
	case scenario.ShapeRamp:
		if r.From == nil || r.To == nil {
			return nil, fmt.Errorf("ramp needs from and to")
		}
		return Linear{From: r.From.PerSecond(), To: r.To.PerSecond(), Over: d}, nil
	case scenario.ShapeStep:
		if len(r.Steps) == 0 {
			return nil, fmt.Errorf("step needs at least one level")
		}
		levels := make([]float64, len(r.Steps))
		for i, s := range r.Steps {
			levels[i] = s.PerSecond()
		}
		every := time.Duration(r.Every)
		if every == 0 {
			every = d / time.Duration(len(levels))
		}
		return Step{Levels: levels, Every: max(every, 1)}, nil
	case scenario.ShapeSine:
		return Sine{Mean: r.Sine.Mean.PerSecond(), Amplitude: r.Sine.Amplitude.PerSecond(), Period: time.Duration(r.Sine.Period)}, nil
	case scenario.ShapeBurst:
		b := r.Burst
		return Burst{Base: b.Base.PerSecond(), Peak: b.Peak.PerSecond(), Every: time.Duration(b.Every), For: time.Duration(b.For)}, nil
	}
	return nil, fmt.Errorf("no rate given")
}
