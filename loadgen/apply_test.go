package loadgen

import (
	"testing"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// TestUnlimitedPrefetchMeetsTheLimit: a scenario's prefetch 0
// ("unlimited") becomes the most the stage's workers × prefetch limit
// allows, so the engine accepts it.
func TestUnlimitedPrefetchMeetsTheLimit(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("p0.yaml", []byte("name: p0\nstages:\n  payment: {workers: 4, prefetch: 0}\n  email: {workers: 1, prefetch: 0}\nphases: [{duration: 1s, rate: 5/s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Stages: map[string]engine.StageConfig{}}
	ApplyToConfig(sc, &cfg)
	for name, want := range map[string]int{engine.StagePayment: engine.MaxStageInFlight / 4, engine.StageEmail: engine.MaxPrefetch} {
		st := cfg.Stages[name]
		if st.Prefetch != want {
			t.Errorf("%s prefetch %d, want %d", name, st.Prefetch, want)
		}
		if err := st.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestScenarioKnobsJudgedLikeTheEngine: a scenario's stage overrides pass
// its validator exactly when the engine accepts the knobs they make
// (engine.StageConfig.Apply's rules and limits on both sides), so a
// scenario that validates never fails at start.
func TestScenarioKnobsJudgedLikeTheEngine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stages string
		valid  bool
	}{
		{"payment: {workers: 1000}", true},
		{"payment: {workers: 1001}", false},
		{"payment: {workers: 2000}", false},
		{"payment: {workers: 1000, prefetch: 100}", true},
		{"payment: {workers: 1000, prefetch: 101}", false},
		{"payment: {workers: 1000, prefetch: 0}", true},
		{"email: {service_time: {dist: constant, value: 1h}}", true},
		{"email: {service_time: {dist: constant, value: 2h}}", false},
		{"inventory: {decline_rate: 0.1}", false},
	} {
		sc, err := scenario.Parse("k.yaml", []byte("name: k\nstages:\n  "+tc.stages+"\nphases: [{duration: 1s, rate: 5/s}]\n"))
		if (err == nil) != tc.valid {
			t.Errorf("%s: validator says %v, want valid %v", tc.stages, err, tc.valid)
		}
		if err != nil {
			continue
		}
		cfg := engine.Config{}
		ApplyToConfig(sc, &cfg)
		for name, st := range cfg.Stages {
			if err := st.ValidateFor(name); err != nil {
				t.Errorf("%s: the validator passed it, the engine refuses %s: %v", tc.stages, name, err)
			}
		}
	}
}
