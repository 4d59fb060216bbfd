package capacity

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/brokertest"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// TestCapacityFindsAKnownKnee searches a pipeline on the real RabbitMQ
// whose payment stage has one worker and a constant 10 ms service time:
// it cannot take more than 100 orders/s (less on a busy machine, where
// sleeps overshoot), and every other stage is far faster. Probes are
// short, so the band is wide; what it rules out is a search that stops at
// the generator or runs past the stage's capacity.
func TestCapacityFindsAKnownKnee(t *testing.T) {
	d := brokertest.Dialer(t)
	ns := brokertest.Namespace(t)
	workers := 1
	base := &scenario.Scenario{
		Name: "known-knee", Seed: 7,
		Stages: scenario.Stages{Payment: &scenario.StageOverride{Workers: &workers,
			ServiceTime: &scenario.ServiceTime{Dist: scenario.DistConstant, Value: ptr(scenario.Duration(10 * time.Millisecond))}}},
		Catalog: scenario.Catalog{Stock: scenario.MaxStock},
	}
	base.SetDefaults()
	cfg := engine.Config{Dialer: d, Namespace: ns, Process: ns}
	loadgen.ApplyToConfig(base, &cfg)
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close()
		brokertest.Delete(t, eng.Names().Topology(cfg.QueueType, engine.DefaultRetryDelays))
	})
	srv := httptest.NewServer(eng.Handler())
	t.Cleanup(srv.Close)
	drv := loadgen.NewHTTPDriver(srv.URL)
	t.Cleanup(drv.Client.CloseIdleConnections)

	crit := Criteria{SLOs: []SLO{mustSLO(t, "e2e_p99<1s")}}
	prober := &Prober{Engine: eng, Driver: drv, Base: base, Broker: eng.Snapshot().Broker,
		Duration: 3 * time.Second, Warmup: 2 * time.Second, Criteria: crit, DrainTimeout: 20 * time.Second}
	search := Search{Start: 25, Factor: 2, Precision: 0.1, MaxTime: 2 * time.Minute}
	started := time.Now()
	res, err := search.Run(context.Background(), prober.Probe)
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(started, search, crit, prober.Duration, res)
	t.Log("\n" + rep.Text())
	if !res.Found {
		t.Fatalf("no knee found; stop %q", res.Stop)
	}
	if res.Knee < 50 || res.Knee > 130 {
		t.Errorf("knee %g/s, want 50–130/s for one 10 ms payment worker", res.Knee)
	}
	if res.Fail <= res.Knee {
		t.Errorf("first failure %g/s not above the knee %g/s (stop %q)", res.Fail, res.Knee, res.Stop)
	}
	for _, p := range res.Probes {
		if p.Report == nil || p.Report.Audit.Lost != 0 || p.Report.Audit.Duplicated != 0 {
			t.Errorf("probe %s: audit %+v", FormatRate(p.Rate), p.Report.Audit)
		}
		if got := p.Report.Phases[0].Expected; got < p.Rate*3*0.99 || got > p.Rate*3*1.01 {
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
