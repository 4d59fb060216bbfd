package loadgen

import (
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
)

// A phase's predicted and measured waits are the medians of its stable
// seconds; seconds at ρ ≥ 1 are counted with the queue's growth instead;
// the text report prints them per phase and stage.
func TestWaitTally(t *testing.T) {
	t.Parallel()
	var w waitTally
	snap := func(lambda float64, wait time.Duration) engine.Snapshot {
		p, _ := engine.Predict(lambda, 10*time.Millisecond, 2)
		return engine.Snapshot{Stages: []engine.StageSnapshot{
			{Name: "payment", Predicted: &p, QueueWaitRecent: telemetry.Percentiles{Count: 10, Mean: wait}},
			{Name: "email"}, // nothing measured: no row
		}}
	}
	w.add(snap(100, 4*time.Millisecond)) // ρ 0.5: predicted 3.33 ms
	w.add(snap(100, 6*time.Millisecond))
	w.add(snap(100, 5*time.Millisecond))
	w.add(snap(250, time.Second)) // ρ 1.25: grows 50/s
	got := w.result()
	if len(got) != 1 {
		t.Fatalf("result = %+v, want payment only", got)
	}
	g := got[0]
	if g.Samples != 3 || g.Unstable != 1 || g.MeasuredMs != 5 || g.GrowthPerS != 50 || g.PredictedMs < 3.3 || g.PredictedMs > 3.4 {
		t.Errorf("payment = %+v; want 3 samples, measured 5ms, predicted ~3.33ms, 1 unstable growing 50/s", g)
	}
	rows := waitRows([]PhaseReport{{Name: "rush", Waits: got}})
	line := strings.Join(rows[0], " ")
	for _, want := range []string{"rush payment", "3.33ms 5.00ms 1.50", "1 s at ρ ≥ 1: queue grew ~50/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("row %q lacks %q", line, want)
		}
	}
}
