package scenario

// The schedule's checks: phases, their rate shapes and rates.

import "time"

func (v *validator) phases() {
	ps := v.s.Phases
	switch {
	case len(ps) == 0:
		v.errorf("phases", "needs at least one phase, like - {name: steady, duration: 60s, rate: 50/s}")
		return
	case len(ps) > MaxPhases:
		v.errorf("phases", "has %d phases; at most %d are allowed", len(ps), MaxPhases)
	}
	tooLong := false
	names := map[string]int{}
	for i, p := range ps {
		path := indexPath("phases", i)
		if j, dup := names[p.Name]; dup && p.Name != "" {
			v.errorf(joinPath(path, "name"), "%q is already the name of phases[%d]; phase names must be unique so reports can tell them apart", p.Name, j)
		} else {
			names[p.Name] = i
		}
		v.positiveDuration(joinPath(path, "duration"), p.Duration, MaxDuration)
		tooLong = tooLong || p.Duration > MaxDuration
		v.rateSpec(joinPath(path, "rate"), p.Rate, p.Duration)
		if p.Arrivals != ArrivalsUniform && p.Arrivals != ArrivalsPoisson {
			v.errorf(joinPath(path, "arrivals"), "must be uniform or poisson, got %q%s", p.Arrivals, suggest(p.Arrivals, []string{ArrivalsUniform, ArrivalsPoisson}))
		}
	}
	if total := v.s.TotalDuration(); total > time.Duration(MaxDuration) && !tooLong {
		v.errorf("phases", "add up to %s; a run may last at most %s", total, MaxDuration)
	}
}

// rateSpec checks one phase's rate against its duration d.
func (v *validator) rateSpec(path string, r RateSpec, d Duration) {
	kinds := r.kinds()
	const forms = "a rate like 50/s, or one of {from, to}, {steps, every}, {sine: {mean, amplitude, period}}, {burst: {base, peak, every, for}}"
	switch len(kinds) {
	case 0:
		v.emptyf(path, "is empty; give %s", forms)
		return
	case 1:
	default:
		v.errorf(path, "mixes the %s forms; give exactly one: %s", oneOfAnd(kinds), forms)
		return
	}
	switch kinds[0] {
	case ShapeConstant:
		v.rate(path, *r.Constant, false)
	case ShapeRamp:
		if r.From == nil {
			v.emptyf(joinPath(path, "from"), "is required for a ramp: the rate at the start of the phase, like from: 100/s")
		} else {
			v.rate(joinPath(path, "from"), *r.From, false)
		}
		if r.To == nil {
			v.emptyf(joinPath(path, "to"), "is required for a ramp: the rate at the end of the phase, like to: 600/s")
		} else {
			v.rate(joinPath(path, "to"), *r.To, false)
		}
	case ShapeStep:
		if len(r.Steps) == 0 {
			v.errorf(joinPath(path, "steps"), "needs at least one rate, like steps: [100/s, 200/s, 400/s]")
		}
		for i, s := range r.Steps {
			v.rate(indexPath(joinPath(path, "steps"), i), s, false)
		}
		switch {
		case r.Every < 0:
			v.errorf(joinPath(path, "every"), "must be a positive duration (or omitted to split the phase evenly), got %s", r.Every)
		case r.Every > 0 && d > 0 && len(r.Steps) > 0 && float64(r.Every)*float64(len(r.Steps)) > float64(d):
			v.errorf(joinPath(path, "every"), "%d steps of %s take %s, longer than the phase's %s; shorten every, drop steps or lengthen the phase",
				len(r.Steps), r.Every, time.Duration(r.Every)*time.Duration(len(r.Steps)), d)
		}
	case ShapeSine:
		sp := joinPath(path, "sine")
		s := r.Sine
		v.rate(joinPath(sp, "mean"), s.Mean, true)
		v.rate(joinPath(sp, "amplitude"), s.Amplitude, false)
		if s.Amplitude > s.Mean && s.Mean > 0 {
			v.errorf(joinPath(sp, "amplitude"), "%s is larger than mean %s, so the rate would go below zero; use an amplitude between 0/s and %s", s.Amplitude, s.Mean, s.Mean)
		} else if s.Mean+s.Amplitude > MaxRate {
			v.errorf(joinPath(sp, "amplitude"), "mean + amplitude is above the maximum of %s", MaxRate)
		}
		v.positiveDuration(joinPath(sp, "period"), s.Period, MaxDuration)
	case ShapeBurst:
		bp := joinPath(path, "burst")
		b := r.Burst
		v.rate(joinPath(bp, "base"), b.Base, false)
		v.rate(joinPath(bp, "peak"), b.Peak, true)
		if b.Peak <= b.Base && b.Peak > 0 {
			v.errorf(joinPath(bp, "peak"), "%s is not above base %s; a burst needs peak > base", b.Peak, b.Base)
		}
		v.positiveDuration(joinPath(bp, "every"), b.Every, MaxDuration)
		v.positiveDuration(joinPath(bp, "for"), b.For, MaxDuration)
		if b.For > 0 && b.Every > 0 && b.For >= b.Every {
			v.errorf(joinPath(bp, "for"), "%s is not shorter than every (%s); a burst must end before the next one starts", b.For, b.Every)
		}
		if b.Every > 0 && d > 0 && b.Every >= d {
			v.errorf(joinPath(bp, "every"), "the first burst starts at %s, but the phase lasts only %s; use an every shorter than the phase", b.Every, d)
		}
	}
}

// rate checks 0 ≤ r ≤ MaxRate (or 0 < r when positive is set).
func (v *validator) rate(path string, r Rate, positive bool) {
	switch {
	case positive && r <= 0:
		v.errorf(path, "must be above 0/s, got %s", r)
	case r < 0:
		v.errorf(path, "must not be negative, got %s", r)
	case r > MaxRate:
		v.errorf(path, "%s is above the maximum of %s", r, MaxRate)
	}
}
