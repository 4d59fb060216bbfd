package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

func writeReport(t *testing.T, name string, achieved, e2eP99 float64) string {
	t.Helper()
	rep := &loadgen.Report{Version: loadgen.ReportVersion, Scenario: "steady", RunID: name,
		Phases: []loadgen.PhaseReport{{Name: "main", TargetRate: 100, AchievedRate: achieved}},
		E2E:    telemetry.Millis{Count: 100, P50: 10, P99: e2eP99},
		Audit:  loadgen.Audit{Accepted: 100, Confirmed: 100}, Passed: true}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(data))
}

// TestCompareExitCodes: 0 without a gated regression, 1 with one (and
// the diff files written), 2 for bad input, each with a clear message.
func TestCompareExitCodes(t *testing.T) {
	t.Parallel()
	a := writeReport(t, "a.json", 100, 50)
	same := writeReport(t, "same.json", 98, 52)
	worse := writeReport(t, "worse.json", 70, 90)
	dir := t.TempDir()
	md, page := filepath.Join(dir, "diff.md"), filepath.Join(dir, "diff.html")

	if code, out, errOut := cli(t, nil, "compare", a, same); code != 0 || !strings.Contains(out, "PASSED") {
		t.Errorf("within tolerance: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := cli(t, nil, "compare", a, worse, "--report", md, "--report", page)
	if code != 1 || !strings.Contains(out, "REGRESSED") || !strings.Contains(errOut, "phase main achieved_rate, e2e p99_ms") {
		t.Errorf("regression: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, p := range []string{md, page} {
		if data, err := os.ReadFile(p); err != nil || !strings.Contains(string(data), "REGRESSED") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if code, out, _ := cli(t, nil, "compare", a, worse, "--tolerance", "100%"); code != 0 {
		t.Errorf("--tolerance 100%%: exit %d\n%s", code, out)
	}

	bad := writeFile(t, "bad.json", `{"version": 3, "scenario": `)
	future := writeFile(t, "future.json", `{"version": 9, "scenario": "x", "audit": {}}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", a, bad}, "bad.json: malformed JSON"},
		{[]string{"compare", future, a}, "report version 9"},
		{[]string{"compare", a, filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"compare", a}, "accepts 2 arg(s)"},
		{[]string{"compare", a, same, "--tolerance", "lots"}, "--tolerance \"lots\""},
		{[]string{"compare", a, same, "--report", "x.pdf"}, "unknown format"},
	} {
		code, out, errOut := cli(t, nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s\n%s", tc.args[1:], code, tc.want, out, errOut)
		}
	}
}
