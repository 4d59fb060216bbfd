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
