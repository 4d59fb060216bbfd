package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"oms-sim/loadgen/scenario"
	"oms-sim/scenarios"
)

// stateList is the repeatable --state flag.
type stateList []string

func (s *stateList) String() string { return strings.Join(*s, " ") }

func (s *stateList) Set(v string) error {
	if v != "memory" && !isPostgres(v) {
		return fmt.Errorf("want memory or postgres://…, got %q", v)
	}
	*s = append(*s, v)
	return nil
}

// orNone is the states to run: the list, or one run without --state.
func (s stateList) orNone() []string {
	if len(s) == 0 {
		return []string{""}
	}
	return s
}

func isPostgres(state string) bool {
	return strings.HasPrefix(state, "postgres://") || strings.HasPrefix(state, "postgresql://")
}

// stateName is how tables name a state: memory or postgres (never the
// URL, which may hold a password).
func stateName(state string) string {
	switch {
	case state == "":
		return "default"
	case isPostgres(state):
		return "postgres"
	}
	return state
}

func stateSuffix(state string) string {
	if state == "" {
		return ""
	}
	return " (" + stateName(state) + ")"
}

// stateSlug keeps runs in different states on different namespaces.
func stateSlug(state string) string {
	switch stateName(state) {
	case "memory":
		return "-mem"
	case "postgres":
		return "-pg"
	}
	return ""
}

// binaryHasState says whether the oms-sim under test has --state (the
// shared state of issue 17).
var binaryHasState bool

// checkStates finds out whether the binary takes --state and whether
// each PostgreSQL named answers: a run that cannot have its state fails
// before any starts.
func checkStates(o options) error {
	help, _ := exec.Command(binaryPath, "--help").CombinedOutput()
	binaryHasState = strings.Contains(string(help), "--state")
	for _, st := range o.states {
		if !isPostgres(st) {
			continue
		}
		if !binaryHasState {
			return fmt.Errorf("%s has no --state flag: this build lacks the shared state (issue 17); run --state memory only", binaryPath)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := pingPG(ctx, st)
		cancel()
		if err != nil {
			return fmt.Errorf("no PostgreSQL at %s: %v (scripts/postgres.sh up)", redactPG(st), err)
		}
	}
	return nil
}

// stateArgs is the --state every process of the run gets. A binary
// without the flag keeps its state in memory: for memory, nothing is
// passed to it.
func (r *run) stateArgs() []string {
	if r.state == "" || r.state == "memory" && !binaryHasState {
		return nil
	}
	return []string{"--state", r.state}
}

// dropState drops the run's schemas in PostgreSQL (its namespace's).
func (r *run) dropState() {
	if !isPostgres(r.state) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := dropSchemas(ctx, r.state, r.ns); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: drop the state of namespace %s: %v\n", r.ns, err)
	}
}

// linkToxics adds the run's AMQP latency (--amqp-latency), each way, on
// the AMQP proxy only: a charge's events reach the stream at once, but
// its outgoing confirm and its ack take three of those latencies, so a
// kill or a closed connection finds work charged, stored and not acked.
func (r *run) linkToxics() error {
	ms := r.o.amqpLatency.Milliseconds()
	if ms <= 0 || len(r.proxies) == 0 {
		return nil
	}
	p := r.proxies[0]
	for _, spec := range []string{
		fmt.Sprintf(`{"name":"link","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, ms),
		fmt.Sprintf(`{"name":"linku","type":"latency","stream":"upstream","attributes":{"latency":%d}}`, ms),
	} {
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
			return fmt.Errorf("AMQP latency on %s: %w", p.Name, err)
		}
	}
	return nil
}

// scenarioBody is a run's scenario file: one steady phase of runFor at
// --rate; with --scenario, that scenario's stages, catalog, orders,
// broker section and thresholds around it (its phases and actions, timed
// for another run, are left out).
func scenarioBody(o options, runFor time.Duration) ([]byte, error) {
	phase := yaml.MapSlice{{Key: "name", Value: "chaos"}, {Key: "duration", Value: runFor.String()}, {Key: "rate", Value: fmt.Sprintf("%d/s", o.rate)}}
	doc := yaml.MapSlice{{Key: "name", Value: "chaos"}, {Key: "seed", Value: 7}}
	if o.scenario != "" {
		data, file, err := scenarios.Open(o.scenario)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		doc = slices.DeleteFunc(doc, func(it yaml.MapItem) bool { return it.Key == "phases" || it.Key == "actions" })
	}
	doc = append(doc, yaml.MapItem{Key: "phases", Value: []yaml.MapSlice{phase}})
	body, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if _, err := scenario.Parse("chaos.yaml", body); err != nil {
		return nil, fmt.Errorf("the run's scenario (from %s): %w", o.scenario, err)
	}
	return body, nil
}

// sideBySide is the exactly-once table: per layout and fault, the
// ledger and the audit of each state's run in a column of its own.
func sideBySide(o options, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nExactly once: the same faults under each state\n\n| layout / fault | |")
	var sep strings.Builder
	sep.WriteString("|---|---|")
	for _, st := range o.states {
		fmt.Fprintf(&b, " %s |", stateName(st))
		sep.WriteString("---:|")
	}
	b.WriteString("\n" + sep.String() + "\n")
	type key struct{ mode, fault string }
	var keys []key
	byKey := map[key]map[string]result{}
	for _, r := range rs {
		k := key{r.mode, r.fault}
		if byKey[k] == nil {
			byKey[k] = map[string]result{}
			keys = append(keys, k)
		}
		byKey[k][r.state] = r
	}
	rows := []struct {
		name string
		of   func(r result) string
	}{
		{"accepted", func(r result) string { return fmt.Sprint(r.audit.Accepted) }},
		{"charges", func(r result) string { return fmt.Sprint(r.audit.Ledger.Charges) }},
		{"**double charges**", func(r result) string { return fmt.Sprint(r.audit.Ledger.DoubleCharges) }},
		{"double stock takes", func(r result) string { return fmt.Sprint(r.audit.Ledger.DoubleTakes) }},
		{"redone", func(r result) string { return fmt.Sprint(r.audit.Redone) }},
		{"redelivered (not redone)", func(r result) string { return fmt.Sprint(r.audit.Ledger.Redelivered) }},
		{"inbox hits", func(r result) string { return fmt.Sprint(r.audit.Ledger.InboxHits) }},
		{"stock unbalanced (products)", func(r result) string {
			return fmt.Sprintf("%d of %d", r.audit.Ledger.Stock.Unbalanced, r.audit.Ledger.Stock.Checked)
		}},
		{"lost", func(r result) string { return fmt.Sprint(r.audit.Lost) }},
		{"duplicated", func(r result) string { return fmt.Sprint(r.audit.Duplicated) }},
		{"thresholds", func(r result) string {
			if len(r.failedThresholds) == 0 {
				return "pass"
			}
			return "FAIL: " + strings.Join(r.failedThresholds, ", ")
		}},
	}
	for _, k := range keys {
		for i, row := range rows {
			label := ""
			if i == 0 {
				label = k.mode + " / " + k.fault
			}
			fmt.Fprintf(&b, "| %s | %s |", label, row.name)
			for _, st := range o.states {
				r, ok := byKey[k][st]
				switch {
				case !ok:
					b.WriteString(" – |")
				case r.err != nil:
					if i == 0 {
						fmt.Fprintf(&b, " FAILED: %s |", strings.ReplaceAll(r.err.Error(), "|", "/"))
					} else {
						b.WriteString(" |")
					}
				default:
					fmt.Fprintf(&b, " %s |", row.of(r))
				}
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\ndouble charges: orders with more than one paid event; memory state keeps each process's memory of handled messages to itself, so a delivery requeued to another payment process (kill -9, a closed connection) is charged again. postgres: one inbox for all, so the repeat is answered from it (inbox hits) and charged once. stock unbalanced: products whose initial − taken ≠ current, as the inventory processes' events saw it (two stocks in memory).\n")
	return b.String()
}
