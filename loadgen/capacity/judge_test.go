package capacity

import (
	"strings"
	"testing"
	"time"

	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

// healthy is the report of a probe at 100/s for 10 s that went well.
func healthy() *loadgen.Report {
	return &loadgen.Report{
		Phases: []loadgen.PhaseReport{{Expected: 1000, Sent: 1000, SentInPhase: 1000, Accepted: 1000, AcceptedInPhase: 1000, SentRate: 100}},
		Stages: []loadgen.StageReport{{Name: "payment", PeakUtilisation: 0.7}, {Name: "email", PeakUtilisation: 0.2}},
		E2E:    telemetry.Millis{Count: 1000, P50: 5, P99: 40},
		Sent:   1000,
		Audit:  loadgen.Audit{Accepted: 1000, Confirmed: 1000},
		Thresholds: []loadgen.ThresholdResult{
			{Metric: "e2e_p99", Observed: 40, Display: "40ms", Pass: true},
		},
	}
}

func steady() observation {
	return observation{
		rho:     map[string]float64{"payment": 0.8, "email": 0.2},
		rhoLast: map[string]float64{"payment": 0.75, "email": 0.2},
		openMid: 4, openEnd: 5, span: 5 * time.Second, completed: 995, load: 10 * time.Second,
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	slos := []SLO{mustSLO(t, "e2e_p99<500ms")}
	tests := []struct {
		name       string
		rep        func(*loadgen.Report)
		obs        func(*observation)
		reason     string // in the reasons; "" for a pass
		bottleneck string
	}{
		{"healthy", nil, nil, "", "-"},
		{"slo broken", func(r *loadgen.Report) { r.Thresholds[0].Pass, r.Thresholds[0].Display = false, "812ms" }, nil, "e2e_p99<500ms: 812ms", "payment"},
		{"generator dropped", func(r *loadgen.Report) { r.Phases[0].SentInPhase, r.Phases[0].Dropped, r.Dropped = 900, 100, 100 }, nil, "sent 90.0% of offered (dropped 100", "generator/API"},
		{"api shed", func(r *loadgen.Report) { r.Phases[0].AcceptedInPhase, r.Phases[0].Shed, r.Shed = 950, 50, 50 }, nil, "accepted 95.0% of sent (shed 50", "generator/API"},
		{"late jitter forgiven", func(r *loadgen.Report) { r.LateSends, r.Lateness = 50, telemetry.Millis{Count: 1000, P99: 30} }, nil, "", "-"},
		{"generator behind", func(r *loadgen.Report) { r.LateSends, r.Lateness = 50, telemetry.Millis{Count: 1000, P99: 400} }, nil, "generator behind: 5.0% of sends late", "generator/API"},
		{"lost", func(r *loadgen.Report) { r.Audit.Lost = 2 }, nil, "2 orders lost", "payment"},
		{"saturated stage", nil, func(o *observation) { o.rho["payment"] = 1.08 }, "payment saturated (ρ 1.08)", "payment"},
		{"backlog grew", nil, func(o *observation) { o.openEnd = 60 }, "backlog grew by 56 orders", "payment"},
		{"small growth is jitter", nil, func(o *observation) { o.openEnd = 9 }, "", "-"},
		{"short probe: ρ shown, not judged", nil, func(o *observation) { o.rho = nil; o.rhoLast["payment"] = 1.2 }, "", "payment"},
		{"the report names the broker", func(r *loadgen.Report) {
			r.Phases[0].SentInPhase, r.Phases[0].Dropped, r.Dropped = 900, 100, 100
			r.Limit = &loadgen.Limit{Kind: loadgen.LimitBroker, Evidence: "confirms p99 400ms"}
		}, nil, "sent 90.0% of offered", "broker"},
		{"the report names a stage", func(r *loadgen.Report) {
			r.Limit = &loadgen.Limit{Kind: loadgen.LimitStage, Stage: "email", Evidence: "ρ 120%"}
		}, func(o *observation) { o.openEnd = 60 }, "backlog grew", "email"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, obs := healthy(), steady()
			if tc.rep != nil {
				tc.rep(rep)
			}
			if tc.obs != nil {
				tc.obs(&obs)
			}
			p := judge(100, rep, obs, Criteria{SLOs: slos})
			if tc.reason == "" {
				if !p.Pass || len(p.Reasons) > 0 {
					t.Errorf("failed: %v", p.Reasons)
				}
			} else if p.Pass || !strings.Contains(strings.Join(p.Reasons, "; "), tc.reason) {
				t.Errorf("pass %v reasons %q, want a failure mentioning %q", p.Pass, p.Reasons, tc.reason)
			}
			if p.Bottleneck != tc.bottleneck {
				t.Errorf("bottleneck %q, want %q", p.Bottleneck, tc.bottleneck)
			}
			if p.SentRate != 100 || p.CompletedRate != 99.5 {
				t.Errorf("sent %g/s completed %g/s, want 100 and 99.5", p.SentRate, p.CompletedRate)
			}
		})
	}
}

func TestJudgeStageLoad(t *testing.T) {
	t.Parallel()
	obs := steady()
	obs.rho = map[string]float64{"payment": 0.8} // email had no full window (not sampled)
	p := judge(100, healthy(), obs, Criteria{})
	want := []StageLoad{{Name: "payment", Rho: 0.8, RhoMeasured: true}, {Name: "email", Rho: 0.2}}
	if len(p.Stages) != 2 || p.Stages[0] != want[0] || p.Stages[1] != want[1] {
		t.Errorf("stages %+v, want %+v", p.Stages, want)
	}
	if got := rho(p.Stages[1]); got != "(0.20)" {
		t.Errorf("unmeasured ρ shown as %q, want (0.20)", got)
	}
}

func mustSLO(t *testing.T, s string) SLO {
	t.Helper()
	slo, err := ParseSLO(s)
	if err != nil {
		t.Fatal(err)
	}
	return slo
}
