package capacity

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/internal/brokertest"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// TestCapacityFindsAKnownKnee searches a pipeline on the real RabbitMQ
// whose payment stage has one worker and a constant 20 ms service time:
// it cannot take more than 50 orders/s (less on a busy machine, where
// sleeps overshoot), and every other stage is far faster. Probes are
// short, so the band is wide; what it rules out is a search that runs past
// the stage's capacity, or stops far below it. The rates are kept low and
// the publish driver used so that the test adds little load under the
// other packages' timing-sensitive tests; a machine so starved that the
// first search stops below the band gets one more search.
func TestCapacityFindsAKnownKnee(t *testing.T) {
	d := brokertest.Dialer(t)
	ns := brokertest.Namespace(t)
	workers := 1
	base := &scenario.Scenario{
		Name: "known-knee", Seed: 7,
		Stages: scenario.Stages{Payment: &scenario.StageOverride{Workers: &workers,
			ServiceTime: &scenario.ServiceTime{Dist: scenario.DistConstant, Value: ptr(scenario.Duration(20 * time.Millisecond))}}},
		Catalog: scenario.Catalog{Stock: scenario.MaxStock},
	}
	base.SetDefaults()
	cfg := engine.Config{Dialer: d, Namespace: ns, Process: ns}
	loadgen.ApplyToConfig(base, &cfg)
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.Started(t, d, eng.Start, eng.Close, func() broker.Topology {
		return eng.Names().Topology(cfg.QueueType, engine.DefaultRetryDelays)
	})
	crit := Criteria{SLOs: []SLO{mustSLO(t, "e2e_p99<1s")}}
	prober := &Prober{Engine: eng, Driver: loadgen.PublishDriver{P: eng}, Base: base, Broker: eng.Snapshot().Broker,
		Duration: 3 * time.Second, Warmup: 2 * time.Second, Criteria: crit, DrainTimeout: 20 * time.Second}
	search := Search{Start: 10, Factor: 2, Precision: 0.1, MaxTime: 90 * time.Second}
	var (
		res Result
		rep *Report
	)
	for try := 1; try <= 2; try++ {
		started := time.Now()
		res, err = search.Run(context.Background(), prober.Probe)
		if err != nil {
			t.Fatal(err)
		}
		rep = NewReport(started, search, crit, prober.Duration, res)
		rep.Driver = prober.Driver.Name()
		t.Logf("search %d:\n%s", try, rep.Text())
		if res.Found && res.Knee >= 25 {
			break
		}
	}
	if !res.Found {
		t.Fatalf("no knee found; stop %q", res.Stop)
	}
	if res.Knee < 25 || res.Knee > 65 {
		t.Errorf("knee %g/s, want 25–65/s for one 20 ms payment worker", res.Knee)
	}
	if res.Fail <= res.Knee {
		t.Errorf("first failure %g/s not above the knee %g/s (stop %q)", res.Fail, res.Knee, res.Stop)
	}
	for _, p := range res.Probes {
		if p.Report == nil || p.Report.Audit.Lost != 0 || p.Report.Audit.Duplicated != 0 {
			t.Errorf("probe %s: audit %+v", FormatRate(p.Rate), p.Report.Audit)
		}
		if got := p.Report.Phases[0].Expected; got < p.Rate*3-1 || got > p.Rate*3+1 {
			t.Errorf("probe %s offered %g orders, want %g", FormatRate(p.Rate), got, p.Rate*3)
		}
		if !p.Pass && len(p.Reasons) == 0 {
			t.Errorf("probe %s failed without a reason", FormatRate(p.Rate))
		}
	}

	// The JSON report round-trips; .md and .txt carry the knee.
	dir := t.TempDir()
	path := filepath.Join(dir, "cap.json")
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != ReportVersion || back.Kind != "capacity" || back.Knee != res.Knee || !back.KneeFound ||
		back.FirstFail != res.Fail || len(back.Probes) != len(res.Probes) || back.SLOs[0] != "e2e_p99<1s" {
		t.Errorf("report did not round-trip: %+v", back)
	}
	for i, p := range back.Probes {
		q := res.Probes[i]
		if p.Rate != q.Rate || p.Pass != q.Pass || p.Step != q.Step || p.Report == nil || p.Report.Sent != q.Report.Sent {
			t.Errorf("probe %d: %+v, want %+v", i, p, q)
		}
	}
	for _, ext := range []string{".md", ".txt"} {
		p := filepath.Join(dir, "cap"+ext)
		if err := rep.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), rep.KneeLine()) || !strings.Contains(string(b), "OFFERED") {
			t.Errorf("%s lacks the curve or the knee:\n%s", ext, b)
		}
	}
}

func ptr[T any](v T) *T { return &v }
