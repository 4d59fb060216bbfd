package loadgen

import (
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// recordScenario is the run.scenario record of a run starting now: the
// scenario file and what the engine runs with — its seed and each stage's
// settings, which the command line may have changed from the file's — so
// a replay draws and serves as the run did.
func (r *Runner) recordScenario(file string, src []byte) recordedScenario {
	rec := recordedScenario{File: file, YAML: string(src), Stages: map[string]engine.StageConfig{}}
	if se, ok := r.cfg.Engine.(interface{ Seed() uint64 }); ok {
		rec.Seed = se.Seed()
	}
	for _, name := range engine.StageNames {
		if c, ok := r.cfg.Engine.StageConfig(name); ok {
			rec.Stages[name] = c
		}
	}
	return rec
}

// applyEffective makes sc the scenario as the recorded run ran it: the
// engine's seed and stage settings replace the file's where recorded.
func (rec recordedScenario) applyEffective(sc *scenario.Scenario) {
	if rec.Seed != 0 {
		sc.Seed = rec.Seed
	}
	for name, c := range rec.Stages {
		o := overrideOf(c)
		switch name {
		case engine.StagePayment:
			sc.Stages.Payment = o
		case engine.StageInventory:
			sc.Stages.Inventory = o
		case engine.StageEmail:
			o.DeclineRate = nil // payment's knob only
			sc.Stages.Email = o
		}
	}
}

// overrideOf states every knob of c as a scenario override (distOf's
// inverse).
func overrideOf(c engine.StageConfig) *scenario.StageOverride {
	dur := func(d time.Duration) *scenario.Duration {
		v := scenario.Duration(d)
		return &v
	}
	d := c.ServiceTime
	st := &scenario.ServiceTime{Dist: d.Kind, Value: dur(d.Value), Min: dur(d.Min), Max: dur(d.Max),
		Mean: dur(d.Mean), Stddev: dur(d.Stddev), Median: dur(d.Median), P99: dur(d.P99)}
	if st.Dist == "" {
		st.Dist = engine.DistConstant
	}
	w, p, er, dr := c.Workers, c.Prefetch, c.ErrorRate, c.DeclineRate
	return &scenario.StageOverride{Workers: &w, Prefetch: &p, ServiceTime: st, ErrorRate: &er, DeclineRate: &dr}
}
