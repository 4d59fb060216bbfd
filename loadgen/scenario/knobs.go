package scenario

import (
	"time"

	"oms-sim/engine"
)

// A stage override is the engine's stage patch in a scenario's words: the
// engine's rules judge it (engine.StageConfig.Apply), and its limits are
// the engine's (engine/limits.go).

// PatchFor turns the override into the engine patch it makes to a stage
// whose knobs are c. Prefetch 0 ("unlimited") becomes as much as the
// stage's in-flight limit allows for the workers it will have, at most
// AMQP's largest prefetch.
func (o StageOverride) PatchFor(c engine.StageConfig) engine.StagePatch {
	p := engine.StagePatch{Workers: o.Workers, ErrorRate: o.ErrorRate, DeclineRate: o.DeclineRate}
	if o.Prefetch != nil {
		v := *o.Prefetch
		if v == 0 {
			v = engine.MaxPrefetch
			if w := c.With(p).Workers; w > 0 {
				v = min(v, engine.MaxStageInFlight/w)
			}
		}
		p.Prefetch = &v
	}
	if o.ServiceTime != nil {
		d := o.ServiceTime.EngineDist()
		p.ServiceTime = &d
	}
	return p
}

// EngineDist is the service time as the engine's distribution.
func (st ServiceTime) EngineDist() engine.Dist {
	dur := func(d *Duration) time.Duration {
		if d == nil {
			return 0
		}
		return d.Std()
	}
	return engine.Dist{
		Kind: st.Dist, Value: dur(st.Value), Min: dur(st.Min), Max: dur(st.Max),
		Mean: dur(st.Mean), Stddev: dur(st.Stddev), Median: dur(st.Median), P99: dur(st.P99),
	}
}
