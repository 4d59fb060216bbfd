package loadgen

import (
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

// applyOverride sets a scenario's stage override on sc. It does not judge
// the result: engine.New holds the configuration, flags and all, to the
// same rules (engine.StageConfig.Apply) the scenario's validator applied.
func applyOverride(sc engine.StageConfig, o scenario.StageOverride) engine.StageConfig {
	return sc.With(o.PatchFor(sc))
}
