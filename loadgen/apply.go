package loadgen

import (
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// ApplyToConfig sets what a scenario fixes before the engine starts: its
// seed, catalog, broker knobs and stage overrides. (The command line
// applies its flags afterwards, so flags the user set win.)
func ApplyToConfig(s *scenario.Scenario, cfg *engine.Config) {
	if b := s.Broker; b.BodyBytes != nil {
		cfg.BodyBytes = *b.BodyBytes
	}
	if b := s.Broker; b.Persistent != nil {
		cfg.Transient = !*b.Persistent
	}
	if c := s.Broker.Connections; c != "" {
		cfg.Connections = c
	}
	if s.Seed != 0 && cfg.Seed == 0 {
		cfg.Seed = s.Seed
	}
	cfg.Catalog = engine.Catalog{
		Products: s.Catalog.Products,
		Stock:    s.Catalog.Stock,
		PriceMin: int64(s.Catalog.PriceCents.Min),
		PriceMax: int64(s.Catalog.PriceCents.Max),
	}
	if cfg.Stages == nil {
		cfg.Stages = map[string]engine.StageConfig{}
	}
	for _, name := range engine.StageNames {
		sc, ok := cfg.Stages[name]
		if !ok {
			sc = engine.DefaultStageConfig()
		}
		if o := s.Stages.Get(name); o != nil {
			sc = applyOverride(sc, *o)
		}
		cfg.Stages[name] = sc
	}
}

// unlimitedPrefetch stands for a scenario's prefetch 0 ("unlimited"):
// RabbitMQ's own maximum.
const unlimitedPrefetch = 65535

func applyOverride(sc engine.StageConfig, o scenario.StageOverride) engine.StageConfig {
	p := patchOf(o)
	if p.Workers != nil {
		sc.Workers = *p.Workers
	}
	if p.Prefetch != nil {
		sc.Prefetch = *p.Prefetch
	}
	if p.ServiceTime != nil {
		sc.ServiceTime = *p.ServiceTime
	}
	if p.ErrorRate != nil {
		sc.ErrorRate = *p.ErrorRate
	}
	if p.DeclineRate != nil {
		sc.DeclineRate = *p.DeclineRate
	}
	if o.Prefetch != nil && *o.Prefetch == 0 && sc.Workers > 0 {
		// "Unlimited" is as much as the stage's limit allows.
		sc.Prefetch = min(unlimitedPrefetch, engine.MaxStageInFlight/sc.Workers)
	}
	return sc
}

// patchOf turns a scenario override into an engine patch.
func patchOf(o scenario.StageOverride) engine.StagePatch {
	p := engine.StagePatch{Workers: o.Workers, ErrorRate: o.ErrorRate, DeclineRate: o.DeclineRate}
	if o.Prefetch != nil {
		v := *o.Prefetch
		if v == 0 {
			v = unlimitedPrefetch
		}
		p.Prefetch = &v
	}
	if o.ServiceTime != nil {
		d := distOf(*o.ServiceTime)
		p.ServiceTime = &d
	}
	return p
}

func distOf(st scenario.ServiceTime) engine.Dist {
	dur := func(d *scenario.Duration) time.Duration {
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
