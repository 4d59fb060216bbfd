// Package compare sets one run's report (B) against another's (A) metric
// by metric — each phase's achieved rate, end-to-end and per-stage
// latencies, the audit — and marks where B regressed beyond a tolerance,
// for CI ("oms-sim compare A.json B.json").
package compare

import (
	"fmt"
	"math"
	"time"

	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

// DefaultTolerance is how much worse B may be than A on a gated metric
// before it counts as a regression (the --tolerance flag's default).
const DefaultTolerance = 0.10

// DefaultLatencyFloor is the smallest latency increase that can count as a
// regression: below it, a few hundred microseconds of scheduler noise on a
// sub-millisecond figure would fail CI by percentage alone.
const DefaultLatencyFloor = time.Millisecond

// Direction says which way a metric gets better.
type Direction string

// Directions.
const (
	LowerIsBetter  Direction = "lower"
	HigherIsBetter Direction = "higher"
	// NoIncrease metrics (lost, duplicated orders) regress on any rise,
	// whatever the tolerance.
	NoIncrease Direction = "none_more"
)

// Row is one metric of A and B.
type Row struct {
	Group  string  `json:"group"`  // "phase warm-up", "e2e", "stage payment", "audit", "load"
	Metric string  `json:"metric"` // e.g. "achieved_rate", "p99_ms"
	Unit   string  `json:"unit"`   // "ms", "/s" or "" for counts
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Delta  float64 `json:"delta"` // B − A
	// Pct is Delta ÷ A × 100; null when A is 0.
	Pct       *float64  `json:"pct"`
	Better    Direction `json:"better"`
	Gated     bool      `json:"gated"`     // a regression here fails the comparison
	Regressed bool      `json:"regressed"` // worse beyond the tolerance
	Improved  bool      `json:"improved"`  // better beyond the tolerance
	// Note says why a row was not judged (e.g. "only in B").
	Note string `json:"note,omitempty"`
}

// Diff is B against A.
type Diff struct {
	A         Summary `json:"a"`
	B         Summary `json:"b"`
	Tolerance float64 `json:"tolerance"` // 0.1 for 10%
	FloorMs   float64 `json:"latency_floor_ms"`
	Rows      []Row   `json:"rows"`
	Regressed int     `json:"regressions"` // gated rows that regressed
	Passed    bool    `json:"passed"`

	// a and b are the reports, for the HTML page's charts.
	a, b *loadgen.Report
}

// Side is one of the two reports with the name it was given by.
type Side struct {
	Path   string
	Report *loadgen.Report
}

// Summary names a compared run.
type Summary struct {
	Path     string    `json:"path"`
	Scenario string    `json:"scenario"`
	RunID    string    `json:"run_id"`
	Started  time.Time `json:"started_at"`
	Version  int       `json:"version"`
	Broker   string    `json:"broker"`
	Passed   bool      `json:"passed"`
}

func summaryOf(s Side) Summary {
	r := s.Report
	return Summary{Path: s.Path, Scenario: r.Scenario, RunID: r.RunID, Started: r.StartedAt, Version: r.Version,
		Broker: r.Broker.Kind + " " + r.Broker.URL + " " + r.Broker.QueueType, Passed: r.Passed}
}

// Options tune what counts as a regression; the zero value counts any
// worsening (DefaultOptions are the command's defaults).
type Options struct {
	// Tolerance is the share B may be worse than A on a gated metric (0.1:
	// 10%).
	Tolerance float64
	// LatencyFloor is the smallest latency rise that can regress.
	LatencyFloor time.Duration
}

// DefaultOptions are DefaultTolerance and DefaultLatencyFloor.
var DefaultOptions = Options{Tolerance: DefaultTolerance, LatencyFloor: DefaultLatencyFloor}

// Compare sets b against a, metric by metric.
func Compare(a, b Side, opt Options) *Diff {
	d := &Diff{A: summaryOf(a), B: summaryOf(b), Tolerance: opt.Tolerance, FloorMs: float64(opt.LatencyFloor) / float64(time.Millisecond),
		a: a.Report, b: b.Report}
	ra, rb := a.Report, b.Report

	// Each phase, matched by name (the n-th of a name with B's n-th).
	bPhases := map[string]loadgen.PhaseReport{}
	for i, p := range rb.Phases {
		bPhases[nth(rb.Phases[:i], p.Name, func(p loadgen.PhaseReport) string { return p.Name })] = p
	}
	seen := map[string]bool{}
	for i, pa := range ra.Phases {
		key := nth(ra.Phases[:i], pa.Name, func(p loadgen.PhaseReport) string { return p.Name })
		seen[key] = true
		g := "phase " + pa.Name
		pb, ok := bPhases[key]
		if !ok {
			d.add(Row{Group: g, Metric: "achieved_rate", Unit: "/s", A: pa.AchievedRate, Better: HigherIsBetter, Note: "only in A"})
			continue
		}
		d.add(Row{Group: g, Metric: "achieved_rate", Unit: "/s", A: pa.AchievedRate, B: pb.AchievedRate, Better: HigherIsBetter, Gated: true})
		d.add(Row{Group: g, Metric: "target_rate", Unit: "/s", A: pa.TargetRate, B: pb.TargetRate, Better: HigherIsBetter})
		d.add(Row{Group: g, Metric: "achieved_ratio", A: pa.Ratio, B: pb.Ratio, Better: HigherIsBetter})
	}
	for i, pb := range rb.Phases {
		if !seen[nth(rb.Phases[:i], pb.Name, func(p loadgen.PhaseReport) string { return p.Name })] {
			d.add(Row{Group: "phase " + pb.Name, Metric: "achieved_rate", Unit: "/s", B: pb.AchievedRate, Better: HigherIsBetter, Note: "only in B"})
		}
	}

	d.latency("e2e", ra.E2E, rb.E2E, true)
	d.latency("accept", ra.Accept, rb.Accept, false)

	// Each stage, matched by name.
	stageName := func(s loadgen.StageReport) string { return s.Name }
	bStages := map[string]loadgen.StageReport{}
	for i, s := range rb.Stages {
		bStages[nth(rb.Stages[:i], s.Name, stageName)] = s
	}
	for i, sa := range ra.Stages {
		sb, ok := bStages[nth(ra.Stages[:i], sa.Name, stageName)]
		if !ok {
			continue
		}
		g := "stage " + sa.Name
		d.add(Row{Group: g, Metric: "queue_wait_p50_ms", Unit: "ms", A: sa.QueueWait.P50, B: sb.QueueWait.P50, Better: LowerIsBetter})
		d.add(Row{Group: g, Metric: "queue_wait_p99_ms", Unit: "ms", A: sa.QueueWait.P99, B: sb.QueueWait.P99, Better: LowerIsBetter,
			Gated: sa.QueueWait.Count > 0 && sb.QueueWait.Count > 0})
		d.add(Row{Group: g, Metric: "service_time_p99_ms", Unit: "ms", A: sa.Service.P99, B: sb.Service.P99, Better: LowerIsBetter})
		d.add(Row{Group: g, Metric: "throughput", Unit: "/s", A: sa.Throughput, B: sb.Throughput, Better: HigherIsBetter})
		d.add(Row{Group: g, Metric: "peak_utilisation", A: sa.PeakUtilisation, B: sb.PeakUtilisation, Better: LowerIsBetter})
	}

	aa, ab := ra.Audit, rb.Audit
	count := func(metric string, x, y int64, dir Direction, gated bool) {
		d.add(Row{Group: "audit", Metric: metric, A: float64(x), B: float64(y), Better: dir, Gated: gated})
	}
	count("lost", aa.Lost, ab.Lost, NoIncrease, true)
	count("duplicated", aa.Duplicated, ab.Duplicated, NoIncrease, true)
	count("accepted", aa.Accepted, ab.Accepted, HigherIsBetter, false)
	count("confirmed", aa.Confirmed, ab.Confirmed, HigherIsBetter, false)
	count("payment_failed", aa.PaymentFailed, ab.PaymentFailed, LowerIsBetter, false)
	count("refunded", aa.Refunded, ab.Refunded, LowerIsBetter, false)
	count("dead_lettered", aa.DeadLettered, ab.DeadLettered, LowerIsBetter, false)
	// Work done again after a crash (at-least-once, not duplicated) and
	// orders that ran without being accepted: read, not gated.
	count("redone", aa.Redone, ab.Redone, LowerIsBetter, false)
	count("recovered", aa.Recovered, ab.Recovered, LowerIsBetter, false)
	count("orphaned", aa.Orphaned, ab.Orphaned, LowerIsBetter, false)
	// The ledger (issue 17): money and stock faults are regressions like
	// a duplicated order; redeliveries answered without redoing the work
	// are read, not gated.
	la, lb := aa.Ledger, ab.Ledger
	count("double_charges", la.DoubleChargesSeen(), lb.DoubleChargesSeen(), NoIncrease, true)
	count("double_takes", la.DoubleTakes, lb.DoubleTakes, NoIncrease, true)
	count("refunds_without_out_of_stock", la.RefundsWithoutFailure, lb.RefundsWithoutFailure, NoIncrease, true)
	count("charges_without_acceptance", la.UnacceptedCharges, lb.UnacceptedCharges, NoIncrease, true)
	count("stock_unbalanced_products", int64(la.Stock.Unbalanced), int64(lb.Stock.Unbalanced), NoIncrease, true)
	count("redelivered", la.Redelivered, lb.Redelivered, LowerIsBetter, false)
	count("inbox_hits", la.InboxHits, lb.InboxHits, LowerIsBetter, false)
	if la.Database != nil && lb.Database != nil {
		count("database_ledger_faults", la.Database.Problems(), lb.Database.Problems(), NoIncrease, true)
	}
	load := func(metric string, x, y int64) {
		d.add(Row{Group: "load", Metric: metric, A: float64(x), B: float64(y), Better: LowerIsBetter})
	}
	d.add(Row{Group: "load", Metric: "sent", A: float64(ra.Sent), B: float64(rb.Sent), Better: HigherIsBetter})
	load("dropped", ra.Dropped, rb.Dropped)
	load("shed", ra.Shed, rb.Shed)
	load("failed_sends", ra.Failed, rb.Failed)
	load("late_sends", ra.LateSends, rb.LateSends)

	d.Passed = d.Regressed == 0
	return d
}

// nth keys the next item named name after those before it: "name#k"
// for its k-th occurrence, so repeated names still pair up in order.
func nth[T any](before []T, name string, nameOf func(T) string) string {
	k := 0
	for _, x := range before {
		if nameOf(x) == name {
			k++
		}
	}
	return fmt.Sprintf("%s#%d", name, k)
}

// latency adds a distribution's rows; p50 and p99 are gated when gate is
// set and both sides measured something.
func (d *Diff) latency(group string, a, b telemetry.Millis, gate bool) {
	measured := a.Count > 0 && b.Count > 0
	for _, s := range []struct {
		metric string
		x, y   float64
		gated  bool
	}{
		{"p50_ms", a.P50, b.P50, gate}, {"p90_ms", a.P90, b.P90, false}, {"p99_ms", a.P99, b.P99, gate},
		{"p999_ms", a.P999, b.P999, false}, {"max_ms", a.Max, b.Max, false},
	} {
		d.add(Row{Group: group, Metric: s.metric, Unit: "ms", A: s.x, B: s.y, Better: LowerIsBetter, Gated: s.gated && measured})
	}
}

// add judges a row and appends it.
func (d *Diff) add(r Row) {
	if r.Note == "" {
		r.Delta = r.B - r.A
		if r.A != 0 {
			p := r.Delta / math.Abs(r.A) * 100
			r.Pct = &p
		}
		worse, better := d.judge(r)
		r.Regressed, r.Improved = worse, better
		if worse && r.Gated {
			d.Regressed++
		}
	}
	d.Rows = append(d.Rows, r)
}

// judge says whether B is worse, or better, than A beyond the tolerance:
// by more than tolerance × |A| (and, for latencies, the floor).
func (d *Diff) judge(r Row) (worse, better bool) {
	limit := d.Tolerance * math.Abs(r.A)
	if r.Unit == "ms" {
		limit = max(limit, d.FloorMs)
	}
	switch r.Better {
	case NoIncrease:
		return r.Delta > 0, r.Delta < 0
	case LowerIsBetter:
		return r.Delta > limit, -r.Delta > limit
	case HigherIsBetter:
		return -r.Delta > limit, r.Delta > limit
	}
	return false, false
}

// fmtValue shows a row's value with its unit.
func fmtValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return loadgen.FormatMs(v)
	case "/s":
		return fmt.Sprintf("%.1f/s", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
