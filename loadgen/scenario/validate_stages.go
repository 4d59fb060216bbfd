package scenario

import (
	"slices"
	"strings"

	"oms-sim/engine"
)

// The stages section and the stage knobs of actions, checked against the
// engine's own rules (engine.StageConfig.Apply) and limits.

func (v *validator) stageName(path, stage string) bool {
	if !slices.Contains(StageNames(), stage) {
		if stage == "" {
			v.errorf(path, "is required: one of %s", strings.Join(StageNames(), ", "))
		} else {
			v.errorf(path, "must be one of %s, got %q%s", strings.Join(StageNames(), ", "), stage, suggest(stage, StageNames()))
		}
		return false
	}
	return true
}

func (v *validator) stages() {
	for _, name := range StageNames() {
		if o := v.s.Stages.Get(name); o != nil {
			v.override(joinPath("stages", name), name, o)
		}
	}
}

// override checks a stage's knob values; stage may be empty when unknown.
// Each value is checked on its own, with its path; then, if they all
// pass, the engine's rules judge them together (a worker count ×
// prefetch past the in-flight limit).
func (v *validator) override(path, stage string, o *StageOverride) {
	before := len(v.errs)
	defer func() {
		if stage == "" || len(v.errs) > before {
			return
		}
		// An action's override is judged on the stage as the scenario's
		// stages section leaves it.
		base := engine.DefaultStageConfig()
		if so := v.s.Stages.Get(stage); so != nil && so != o {
			base = base.With(so.PatchFor(base))
		}
		if _, err := base.Apply(stage, o.PatchFor(base)); err != nil {
			v.errorf(path, "%v", err)
		}
	}()
	if o.Workers != nil {
		v.intRange(joinPath(path, "workers"), *o.Workers, 1, MaxWorkers, "a worker count")
	}
	if o.Prefetch != nil {
		v.intRange(joinPath(path, "prefetch"), *o.Prefetch, 0, MaxPrefetch, "a prefetch count (0: unlimited)")
	}
	if o.ServiceTime != nil {
		v.serviceTime(joinPath(path, "service_time"), o.ServiceTime)
	}
	if o.ErrorRate != nil {
		v.fraction(joinPath(path, "error_rate"), *o.ErrorRate)
	}
	if o.DeclineRate != nil {
		if stage != "" && stage != StagePayment {
			v.errorf(joinPath(path, "decline_rate"), "applies only to the payment stage, not %s", stage)
		} else {
			v.fraction(joinPath(path, "decline_rate"), *o.DeclineRate)
		}
	}
}

// distParams lists the parameters each distribution takes.
var distParams = map[string][]string{
	DistConstant:    {"value"},
	DistUniform:     {"min", "max"},
	DistNormal:      {"mean", "stddev"},
	DistLognormal:   {"median", "p99"},
	DistExponential: {"mean"},
}

var paramExample = map[string]string{
	"value": "value: 5ms", "min": "min: 2ms", "max": "max: 10ms", "mean": "mean: 5ms",
	"stddev": "stddev: 1ms", "median": "median: 4ms", "p99": "p99: 30ms",
}

func (v *validator) serviceTime(path string, st *ServiceTime) {
	want, ok := distParams[st.Dist]
	if !ok {
		v.errorf(joinPath(path, "dist"), "must be one of %s, got %q%s", strings.Join(DistNames(), ", "), st.Dist, suggest(st.Dist, DistNames()))
		return
	}
	params := []struct {
		name string
		d    *Duration
	}{
		{"value", st.Value}, {"min", st.Min}, {"max", st.Max}, {"mean", st.Mean},
		{"stddev", st.Stddev}, {"median", st.Median}, {"p99", st.P99},
	}
	for _, p := range params {
		pp := joinPath(path, p.name)
		switch {
		case p.d == nil && slices.Contains(want, p.name):
			v.errorf(pp, "is required for dist %s, which takes %s (e.g. %s)", st.Dist, oneOfAnd(want), paramExample[p.name])
		case p.d != nil && !slices.Contains(want, p.name):
			v.errorf(pp, "does not apply to dist %s, which takes %s", st.Dist, oneOfAnd(want))
		case p.d != nil && *p.d < 0:
			v.errorf(pp, "must not be negative, got %s", *p.d)
		case p.d != nil && *p.d > MaxServiceTime:
			v.errorf(pp, "%s is longer than the maximum service time of %s", *p.d, MaxServiceTime)
		}
	}
	switch st.Dist {
	case DistUniform:
		if st.Min != nil && st.Max != nil && *st.Min > *st.Max {
			v.errorf(joinPath(path, "max"), "%s is below min %s", *st.Max, *st.Min)
		}
	case DistLognormal:
		if st.Median != nil && *st.Median == 0 {
			v.errorf(joinPath(path, "median"), "must be above 0 for a lognormal; use dist constant with value: 0s for no delay")
		} else if st.Median != nil && st.P99 != nil && *st.P99 < *st.Median {
			v.errorf(joinPath(path, "p99"), "%s is below median %s; p99 must be at least the median", *st.P99, *st.Median)
		}
	case DistExponential:
		if st.Mean != nil && *st.Mean == 0 {
			v.errorf(joinPath(path, "mean"), "must be above 0 for an exponential; use dist constant with value: 0s for no delay")
		}
	}
}
