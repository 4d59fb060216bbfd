package main

import (
	"strings"
	"testing"
	"time"

	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// TestScenarioBodyKeepsTheScenarioButItsPhases: --scenario exactly-once
// gives the run its stages and thresholds, with one steady phase of the
// run's length at --rate instead of its own phases.
func TestScenarioBodyKeepsTheScenarioButItsPhases(t *testing.T) {
	t.Parallel()
	body, err := scenarioBody(options{scenario: "exactly-once", rate: 150}, 33*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Parse("chaos.yaml", body)
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(s.Phases) != 1 || s.TotalDuration() != 33*time.Second || !strings.Contains(string(body), "150/s") {
		t.Errorf("phases %+v, want one of 33s at 150/s:\n%s", s.Phases, body)
	}
	var metrics []string
	for _, th := range s.Thresholds {
		metrics = append(metrics, th.Metric)
	}
	if !strings.Contains(strings.Join(metrics, ","), "double_charges") || s.Name != "exactly-once" {
		t.Errorf("name %q, thresholds %v: want exactly-once's, double_charges among them", s.Name, metrics)
	}
	if _, err := scenarioBody(options{scenario: "no-such-scenario", rate: 1}, time.Second); err == nil {
		t.Error("an unknown scenario: want an error")
	}
	plain, err := scenarioBody(options{rate: 100}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := scenario.Parse("chaos.yaml", plain); err != nil || s.Name != "chaos" || s.TotalDuration() != 20*time.Second {
		t.Errorf("default scenario: %v %+v", err, s)
	}
}

// TestSideBySide: one row per ledger figure, one column per state, the
// URL never printed (it may hold a password).
func TestSideBySide(t *testing.T) {
	t.Parallel()
	pg := "postgres://oms:secret@localhost:5432/oms"
	o := options{states: stateList{"memory", pg}}
	mem := result{mode: "split", fault: "kill -9 payment", state: "memory", failedThresholds: []string{"double_charges ≤ 0"}}
	mem.audit = loadgen.Audit{Accepted: 3000, Redone: 4}
	mem.audit.Ledger = loadgen.Ledger{Charges: 2904, DoubleCharges: 4, Stock: loadgen.StockAudit{Checked: 20, Unbalanced: 20}}
	shared := result{mode: "split", fault: "kill -9 payment", state: pg}
	shared.audit = loadgen.Audit{Accepted: 2990}
	shared.audit.Ledger = loadgen.Ledger{Charges: 2895, Redelivered: 5, InboxHits: 5, Stock: loadgen.StockAudit{Checked: 20}}
	out := sideBySide(o, []result{mem, shared})
	for _, want := range []string{
		"| layout / fault | | memory | postgres |",
		"| split / kill -9 payment | accepted | 3000 | 2990 |",
		"|  | **double charges** | 4 | 0 |",
		"|  | inbox hits | 0 | 5 |",
		"|  | stock unbalanced (products) | 20 of 20 | 0 of 20 |",
		"|  | thresholds | FAIL: double_charges ≤ 0 | pass |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Error("the table shows the database password")
	}
	if !mem.ok() || !shared.ok() {
		t.Error("a memory run's double charges are the lesson, not a failure")
	}
	shared.audit.Ledger.DoubleCharges = 1
	if shared.ok() {
		t.Error("a postgres run that charged twice must fail")
	}
}
