package compare

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

func report(achieved, e2eP99, waitP99 float64, lost int64) *loadgen.Report {
	return &loadgen.Report{
		Version: loadgen.ReportVersion, Scenario: "steady", RunID: "r",
		Phases: []loadgen.PhaseReport{{Name: "warm-up", TargetRate: 100, AchievedRate: 100}, {Name: "main", TargetRate: 300, AchievedRate: achieved}},
		Stages: []loadgen.StageReport{{Name: "payment", QueueWait: telemetry.Millis{Count: 10, P50: 1, P99: waitP99}}},
		E2E:    telemetry.Millis{Count: 10, P50: 5, P90: 9, P99: e2eP99, P999: e2eP99, Max: e2eP99},
		Accept: telemetry.Millis{Count: 10, P50: 1, P99: 2},
		Audit:  loadgen.Audit{Accepted: 100, Confirmed: 100 - lost, Lost: lost},
	}
}

func row(t *testing.T, d *Diff, group, metric string) Row {
	t.Helper()
	for _, r := range d.Rows {
		if r.Group == group && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s %s in %+v", group, metric, d.Rows)
	return Row{}
}

func TestCompareGatesRegressionsBeyondTheTolerance(t *testing.T) {
	t.Parallel()
	a := Side{"a.json", report(300, 100, 20, 0)}
	tests := []struct {
		name      string
		b         *loadgen.Report
		tol       float64
		regressed []string // gated rows that regressed
	}{
		{"same", report(300, 100, 20, 0), 0.1, nil},
		{"within tolerance", report(280, 109, 21.9, 0), 0.1, nil},
		{"achieved rate fell", report(260, 100, 20, 0), 0.1, []string{"phase main achieved_rate"}},
		{"e2e p99 rose", report(300, 150, 20, 0), 0.1, []string{"e2e p99_ms"}},
		{"queue wait p99 rose", report(300, 100, 40, 0), 0.1, []string{"stage payment queue_wait_p99_ms"}},
		{"one lost order fails whatever the tolerance", report(300, 100, 20, 1), 5, []string{"audit lost"}},
		{"a big tolerance lets it pass", report(260, 150, 40, 0), 1, nil},
		{"better is not a regression", report(400, 50, 5, 0), 0.1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Compare(a, Side{"b.json", tc.b}, Options{Tolerance: tc.tol, LatencyFloor: time.Millisecond})
			var got []string
			for _, r := range d.Rows {
				if r.Regressed && r.Gated {
					got = append(got, r.Group+" "+r.Metric)
				}
			}
			if strings.Join(got, ";") != strings.Join(tc.regressed, ";") || d.Passed != (len(tc.regressed) == 0) || d.Regressed != len(got) {
				t.Errorf("regressed %q passed %v, want %q", got, d.Passed, tc.regressed)
			}
		})
	}
}

func TestCompareRowArithmetic(t *testing.T) {
	t.Parallel()
	d := Compare(Side{"a", report(300, 100, 20, 0)}, Side{"b", report(240, 150, 20, 0)}, DefaultOptions)
	r := row(t, d, "phase main", "achieved_rate")
	if r.A != 300 || r.B != 240 || r.Delta != -60 || r.Pct == nil || *r.Pct != -20 || !r.Regressed || !r.Gated {
		t.Errorf("achieved row %+v", r)
	}
	e := row(t, d, "e2e", "p99_ms")
	if e.Delta != 50 || *e.Pct != 50 || !e.Regressed {
		t.Errorf("e2e row %+v", e)
	}
	if r := row(t, d, "accept", "p99_ms"); r.Gated {
		t.Errorf("accept p99 is for reading only: %+v", r)
	}
	txt := d.Text()
	for _, want := range []string{"REGRESSED", "-20.0%", "+50.0%", "FAILED: B regressed beyond 10% on 2 gated metric(s): phase main achieved_rate, e2e p99_ms"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if md := d.Markdown(); !strings.Contains(md, "| phase main | achieved_rate | ● | 300.0/s | 240.0/s | -60.0/s | -20.0% | **REGRESSED** |") {
		t.Errorf("markdown:\n%s", md)
	}
}

// TestLatencyFloor: a sub-millisecond figure doubling is noise, not a
// regression, unless the floor is lowered.
func TestLatencyFloor(t *testing.T) {
	t.Parallel()
	a, b := report(300, 0.4, 0.3, 0), report(300, 0.8, 0.7, 0)
	if d := Compare(Side{"a", a}, Side{"b", b}, DefaultOptions); !d.Passed {
		t.Errorf("0.4 → 0.8 ms failed with a 1 ms floor: %s", d.Verdict())
	}
	if d := Compare(Side{"a", a}, Side{"b", b}, Options{Tolerance: 0.1}); d.Passed || d.Regressed != 2 {
		t.Errorf("0.4 → 0.8 ms with no floor: %s", d.Verdict())
	}
}

// TestPhasesMatchedByName: a phase only one run has is shown, not judged.
func TestPhasesMatchedByName(t *testing.T) {
	t.Parallel()
	b := report(300, 100, 20, 0)
	b.Phases[0].Name = "warmup"
	d := Compare(Side{"a", report(300, 100, 20, 0)}, Side{"b", b}, DefaultOptions)
	if r := row(t, d, "phase warm-up", "achieved_rate"); r.Note != "only in A" || r.Regressed {
		t.Errorf("%+v", r)
	}
	if r := row(t, d, "phase warmup", "achieved_rate"); r.Note != "only in B" {
		t.Errorf("%+v", r)
	}
	if !d.Passed {
		t.Error(d.Verdict())
	}
}

func TestParseRejectsWhatIsNotARunReport(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(report(1, 1, 1, 0))
	tests := []struct {
		name, file, data, want string
	}{
		{"empty", "a.json", "", "not a JSON report"},
		{"truncated", "a.json", string(good[:len(good)/2]), "malformed JSON"},
		{"array", "a.json", "[1,2]", "not a JSON report"},
		{"no version", "a.json", `{"scenario":"x","audit":{}}`, `no "version"`},
		{"future version", "a.json", `{"version":99,"scenario":"x","audit":{}}`, "report version 99; this oms-sim reads versions 1 to 3"},
		{"capacity report", "c.json", `{"version":1,"kind":"capacity"}`, "a capacity report"},
		{"wrong type", "a.json", `{"version":3,"scenario":"x","audit":{"lost":"many"}}`, "field audit.lost"},
		{"html without data", "a.html", "<html><body>hi</body></html>", "no script#report-data"},
		{"not a report at all", "a.json", `{"hello":"world"}`, `no "version"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.file, []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.file+": ") {
				t.Errorf("Parse = %v, want an error naming %s with %q", err, tc.file, tc.want)
			}
		})
	}
	// Version 2 reports (before series) still read.
	v2 := strings.Replace(string(good), `"version":3`, `"version":2`, 1)
	if rep, err := Parse("v2.json", []byte(v2)); err != nil || rep.Version != 2 || rep.Series != nil {
		t.Errorf("a version 2 report: %v", err)
	}
	// An HTML report is read through its data.
	page, err := report(5, 1, 1, 0).HTML()
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := Parse("r.html", []byte(page)); err != nil || rep.Phases[1].AchievedRate != 5 {
		t.Errorf("HTML report: %v", err)
	}
}

func TestParseTolerance(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"10%": 0.1, "10": 0.1, " 2.5% ": 0.025, "0%": 0, "1000%": 10} {
		if got, err := ParseTolerance(in); err != nil || got != want {
			t.Errorf("ParseTolerance(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "ten", "10%%", "-1%", "1001%", "NaN", "10abc", "Inf"} {
		if _, err := ParseTolerance(in); err == nil || !strings.Contains(err.Error(), "--tolerance") {
			t.Errorf("ParseTolerance(%q) = %v, want an error", in, err)
		}
	}
}

func TestDiffHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	a, b := report(300, 100, 20, 0), report(200, 100, 20, 0)
	for _, r := range []*loadgen.Report{a, b} {
		r.Series = &loadgen.Series{IntervalMs: 1000, Points: []loadgen.SeriesPoint{{T: 1, Accepted: 3}, {T: 2, Accepted: 4}}}
	}
	page, err := Compare(Side{"a", a}, Side{"b", b}, DefaultOptions).HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"src=\"http", "href=\"http", "fetch(", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	for _, want := range []string{`class="regressed"`, "FAILED", "var uPlot=", `"accepted":4`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
