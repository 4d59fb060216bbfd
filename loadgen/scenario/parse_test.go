package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// want is one expected problem: its position, field, and a piece of its
// message.
type want struct {
	at    string // "line:column"
	field string
	msg   string
}

// ok is a minimal valid phase list to append to cases about other fields.
const ok = "phases: [{duration: 10s, rate: 10/s}]\n"

// errorCases covers every class of problem, each with its exact position.
var errorCases = []struct {
	name string
	yaml string
	want []want
}{
	// YAML itself.
	{"syntax: unclosed flow", "phases: [{duration: 10s, rate: 10/s}\n", []want{{"1:9", "", "invalid YAML: sequence end token ']' not found"}}},
	{"syntax: tab indent", "stages:\n\tpayment: {}\n" + ok, []want{{"2:1", "", "invalid YAML"}}},
	{"syntax: duplicate key", ok + "seed: 1\nseed: 2\n", []want{{"3:1", "", `mapping key "seed" already defined at [2:1]`}}},
	{"empty file", "# only a comment\n", []want{{"1:1", "", "the file is empty"}}},
	{"two documents", ok + "---\n" + ok, []want{{"2:1", "", "found 2 documents"}}},
	{"not a mapping", "- a\n- b\n", []want{{"1:1", "", "must be a mapping with fields name, description, seed, stages, catalog, broker, orders, retry, phases, actions, thresholds, got a list"}}},
	{"undefined alias", ok + "stages: {payment: *nope}\n", []want{{"2:19", "stages.payment", "alias *nope does not refer to an anchor"}}},

	// Unknown fields, with the valid names and a suggestion.
	{"unknown top-level field", ok + "sead: 42\n", []want{{"2:1", "sead", `unknown field "sead"; valid fields are name, description, seed, stages, catalog, broker, orders, retry, phases, actions, thresholds (did you mean "seed"?)`}}},
	{"unknown phase field", "phases:\n  - duration: 10s\n    rate: 10/s\n    arrival: poisson\n", []want{{"4:5", "phases[0].arrival", `valid fields are name, description, duration, rate, arrivals (did you mean "arrivals"?)`}}},
	{"unknown stage", ok + "stages:\n  paymnt: {workers: 2}\n", []want{{"3:3", "stages.paymnt", `valid fields are payment, inventory, email (did you mean "payment"?)`}}},
	{"unknown knob in fault", ok + "actions: [{at: 1s, fault: {stage: payment, decline: 1, for: 1s}}]\n", []want{{"2:44", "actions[0].fault.decline", "valid fields are stage, workers, prefetch, service_time, error_rate, decline_rate, for"}}},
	{"unknown rate form", "phases: [{duration: 10s, rate: {wave: 5/s}}]\n", []want{{"1:33", "phases[0].rate.wave", "valid fields are from, to, steps, every, sine, burst"}}},

	// Wrong types.
	{"type: negative seed", ok + "seed: -1\n", []want{{"2:7", "seed", "must be a whole number ≥ 0, got -1"}}},
	{"type: quoted number", ok + "stages: {payment: {workers: \"4\"}}\n", []want{{"2:29", "stages.payment.workers", `must be a whole number, got text "4"`}}},
	{"type: fraction for int", ok + "orders: {users: 2.5}\n", []want{{"2:17", "orders.users", "must be a whole number, got the number 2.5"}}},
	{"type: text for float", ok + "stages: {email: {error_rate: high}}\n", []want{{"2:30", "stages.email.error_rate", `must be a number, got text "high"`}}},
	{"type: mapping for list", "phases: {duration: 10s, rate: 10/s}\n", []want{{"1:9", "phases", "must be a list"}}},
	{"type: scalar for mapping", ok + "actions: [{at: 1s, scale: 5}]\n", []want{{"2:27", "actions[0].scale", "must be a mapping with fields stage, workers, got the number 5"}}},
	{"type: infinite number", ok + "stages: {payment: {error_rate: .inf}}\n", []want{{"2:32", "stages.payment.error_rate", "must be a finite number, got .inf"}}},
	{"type: list for text", ok + "name: [a]\n", []want{{"2:7", "name", "must be text, got a list"}}},

	// Missing required fields: reported where the enclosing mapping starts.
	{"missing duration", "phases:\n  - rate: 10/s\n", []want{{"2:5", "phases[0].duration", "required field is missing; expected a duration like 30s"}}},
	{"missing rate (flow)", "phases: [{name: a, duration: 10s}]\n", []want{{"1:10", "phases[0].rate", "required field is missing"}}},
	{"missing phases", "name: x\n", []want{{"1:1", "phases", "required field is missing"}}},
	{"null phases", "phases:\n", []want{{"1:1", "phases", "required field is missing"}}},
	{"missing at", ok + "actions: [{pause: {for: 1s}}]\n", []want{{"2:11", "actions[0].at", "required field is missing"}}},
	{"missing dist", ok + "stages: {email: {service_time: {value: 1ms}}}\n", []want{{"2:32", "stages.email.service_time.dist", "expected one of constant, uniform, normal, lognormal, exponential"}}},
	{"missing metric", ok + "thresholds: [{max: 1}]\n", []want{{"2:14", "thresholds[0].metric", "required field is missing"}}},
	{"missing sine period", "phases: [{duration: 10s, rate: {sine: {mean: 5/s, amplitude: 1/s}}}]\n", []want{{"1:39", "phases[0].rate.sine.period", "expected a duration like 20s"}}},

	// Rates and durations.
	{"rate without unit", "phases: [{duration: 10s, rate: 50}]\n", []want{{"1:32", "phases[0].rate", "rate 50 needs a unit: write 50/s, 50/m or 50/h"}}},
	{"rate with bad unit", "phases: [{duration: 10s, rate: 50/ms}]\n", []want{{"1:32", "phases[0].rate", `has unit "ms"; the unit must be s, m or h`}}},
	{"rate not a rate", "phases: [{duration: 10s, rate: fast}]\n", []want{{"1:32", "phases[0].rate", `"fast" is not a rate; write a count per unit like 50/s`}}},
	{"rate as list", "phases: [{duration: 10s, rate: [1/s]}]\n", []want{{"1:32", "phases[0].rate", "must be a rate like 50/s, or a mapping"}}},
	{"rate empty mapping", "phases: [{duration: 10s, rate: {}}]\n", []want{{"1:32", "phases[0].rate", "is empty; give a rate like 50/s"}}},
	{"rate mixes forms", "phases: [{duration: 10s, rate: {from: 1/s, to: 2/s, steps: [1/s]}}]\n", []want{{"1:32", "phases[0].rate", "mixes the ramp and step forms"}}},
	{"ramp without to", "phases: [{duration: 10s, rate: {from: 1/s}}]\n", []want{{"1:32", "phases[0].rate.to", "is required for a ramp"}}},
	{"negative rate", "phases: [{duration: 10s, rate: -5/s}]\n", []want{{"1:32", "phases[0].rate", "must not be negative, got -5/s"}}},
	{"rate too high", "phases: [{duration: 10s, rate: 2000000/s}]\n", []want{{"1:32", "phases[0].rate", "2000000/s is above the maximum of 1000000/s"}}},
	{"duration without unit", "phases: [{duration: 10, rate: 1/s}]\n", []want{{"1:21", "phases[0].duration", "duration 10 needs a unit: write 10s, 10ms or 10m"}}},
	{"duration garbage", "phases: [{duration: soon, rate: 1/s}]\n", []want{{"1:21", "phases[0].duration", `"soon" is not a duration; write a Go duration like 500ms`}}},
	{"duration zero", "phases: [{duration: 0s, rate: 1/s}]\n", []want{{"1:21", "phases[0].duration", "must be a positive duration like 30s, got 0s"}}},
	{"steps longer than phase", "phases: [{duration: 10s, rate: {steps: [1/s, 2/s, 3/s], every: 5s}}]\n", []want{{"1:64", "phases[0].rate.every", "3 steps of 5s take 15s, longer than the phase's 10s"}}},
	{"sine below zero", "phases: [{duration: 10s, rate: {sine: {mean: 5/s, amplitude: 6/s, period: 2s}}}]\n", []want{{"1:62", "phases[0].rate.sine.amplitude", "6/s is larger than mean 5/s"}}},
	{"burst too long", "phases: [{duration: 10s, rate: {burst: {peak: 9/s, every: 2s, for: 2s}}}]\n", []want{{"1:68", "phases[0].rate.burst.for", "2s is not shorter than every (2s)"}}},
	{"burst never fires", "phases: [{duration: 10s, rate: {burst: {peak: 9/s, every: 20s, for: 2s}}}]\n", []want{{"1:59", "phases[0].rate.burst.every", "the first burst starts at 20s, but the phase lasts only 10s"}}},

	// Choices.
	{"arrivals", "phases: [{duration: 10s, rate: 1/s, arrivals: poison}]\n", []want{{"1:47", "phases[0].arrivals", `must be uniform or poisson, got "poison" (did you mean "poisson"?)`}}},
	{"dist", ok + "stages: {payment: {service_time: {dist: lognorm, median: 1ms, p99: 2ms}}}\n", []want{{"2:41", "stages.payment.service_time.dist", `must be one of constant, uniform, normal, lognormal, exponential, got "lognorm" (did you mean "lognormal"?)`}}},
	{"dist params", ok + "stages:\n  payment:\n    service_time: {dist: uniform, min: 1ms, value: 3ms}\n", []want{
		{"4:19", "stages.payment.service_time.max", "is required for dist uniform, which takes min and max (e.g. max: 10ms)"},
		{"4:52", "stages.payment.service_time.value", "does not apply to dist uniform, which takes min and max"},
	}},
	{"lognormal p99 below median", ok + "stages: {payment: {service_time: {dist: lognormal, median: 5ms, p99: 1ms}}}\n", []want{{"2:70", "stages.payment.service_time.p99", "1ms is below median 5ms"}}},
	{"product dist", ok + "orders: {product: {dist: pareto}}\n", []want{{"2:26", "orders.product.dist", `must be uniform or zipf, got "pareto"`}}},
	{"zipf s", ok + "orders: {product: {dist: zipf, s: 1}}\n", []want{{"2:35", "orders.product.s", "must be above 1 and at most 10 for zipf"}}},
	{"stage in action", ok + "actions: [{at: 1s, stop: {stage: paymnt, for: 1s}}]\n", []want{{"2:34", "actions[0].stop.stage", `must be one of payment, inventory, email, got "paymnt" (did you mean "payment"?)`}}},
	{"metric", ok + "thresholds: [{metric: e2e_p95, max: 1s}]\n", []want{{"2:23", "thresholds[0].metric", `unknown metric "e2e_p95"; valid metrics are e2e_{p50,p90,p99,p999,max}`}}},

	// Ranges.
	{"workers", ok + "stages: {payment: {workers: 0, prefetch: 70000}}\n", []want{
		{"2:29", "stages.payment.workers", "must be a worker count between 1 and 1000, got 0"},
		{"2:42", "stages.payment.prefetch", "must be a prefetch count (0: unlimited) between 0 and 65535, got 70000"},
	}},
	{"workers above the engine's limit", ok + "stages: {payment: {workers: 2000}}\n", []want{
		{"2:29", "stages.payment.workers", "must be a worker count between 1 and 1000, got 2000"},
	}},
	{"scale above the engine's limit", ok + "actions: [{at: 1s, scale: {stage: payment, workers: 2000}}]\n", []want{
		{"2:53", "actions[0].scale.workers", "must be a worker count between 1 and 1000, got 2000"},
	}},
	{"workers × prefetch above the engine's limit", ok + "stages: {payment: {workers: 1000, prefetch: 1000}}\n", []want{
		{"2:19", "stages.payment", "workers × prefetch must be at most 100000"},
	}},
	{"fractions", ok + "stages: {payment: {error_rate: 1.5}, email: {decline_rate: 0.1}}\n", []want{
		{"2:32", "stages.payment.error_rate", "must be a fraction between 0 and 1 (0.02 means 2%), got 1.5"},
		{"2:60", "stages.email.decline_rate", "applies only to the payment stage, not email"},
	}},
	{"price range", ok + "catalog: {price_cents: {min: 900, max: 100}}\n", []want{{"2:40", "catalog.price_cents.max", "100 is below min 900"}}},
	{"quantity", ok + "orders: {quantity: {min: -1, max: 2000}}\n", []want{
		{"2:26", "orders.quantity.min", "must be a quantity between 1 and 1000, got -1"},
		{"2:35", "orders.quantity.max", "must be a quantity between 1 and 1000, got 2000"},
	}},
	{"duplicate phase name", "phases:\n  - {name: a, duration: 1s, rate: 1/s}\n  - {name: a, duration: 1s, rate: 1/s}\n", []want{{"3:12", "phases[1].name", `"a" is already the name of phases[0]`}}},

	// Actions.
	{"action with two kinds", ok + "actions: [{at: 1s, pause: {for: 1s}, stop: {stage: email, for: 1s}}]\n", []want{{"2:11", "actions[0]", "has stop and pause; give each action its own list item"}}},
	{"action with no kind", ok + "actions: [{at: 1s}]\n", []want{{"2:11", "actions[0]", "needs one of scale, set, fault, stop, restock, pause"}}},
	{"action after the end", ok + "actions: [{at: 1m, pause: {for: 1s}}]\n", []want{{"2:16", "actions[0].at", "1m0s is after the load ends at 10s"}}},
	{"action outlasting the load", ok + "actions: [{at: 5s, stop: {stage: inventory, for: 20s}}]\n", []want{{"2:50", "actions[0].stop.for", "20s from 5s ends after the load ends at 10s"}}},
	{"fault without for", ok + "actions: [{at: 1s, fault: {stage: payment, decline_rate: 1}}]\n", []want{{"2:27", "actions[0].fault.for", "is required for a fault"}}},
	{"set without knobs", ok + "actions: [{at: 1s, set: {stage: email, for: 1s}}]\n", []want{{"2:25", "actions[0].set", "changes nothing; give at least one of workers"}}},
	{"restock unknown product", ok + "catalog: {products: 5}\nactions: [{at: 1s, restock: {product: 6, quantity: 1}}]\n", []want{{"3:39", "actions[0].restock.product", "must be a product id between 1 and 5 (catalog.products)"}}},
	{"backlog negative", ok + "actions: [{at: 1s, backlog: {max: -1, for: -2s}}]\n", []want{
		{"2:35", "actions[0].backlog.max", "must be a number of ready messages (0: off) between 0 and 1000000000, got -1"},
		{"2:44", "actions[0].backlog.for", "must be a positive duration, or omitted to keep the bound until the end; got -2s"},
	}},
	{"backlog without max", ok + "actions: [{at: 1s, backlog: {for: 2s}}]\n", []want{{"2:29", "actions[0].backlog.max", "required field is missing; expected a number of ready messages, or 0 for off"}}},
	{"backlog max as text", ok + "actions: [{at: 1s, backlog: {max: lots}}]\n", []want{{"2:35", "actions[0].backlog.max", `must be a whole number, got text "lots"`}}},
	{"stop without for", ok + "actions: [{at: 1s, stop: {stage: email}}]\n", []want{{"2:26", "actions[0].stop.for", "required field is missing; expected a duration like 10s"}}},

	// Broker.
	{"broker ranges and choices", ok + "broker: {body_bytes: -1, connections: per-wroker}\n", []want{
		{"2:22", "broker.body_bytes", "must be a message size in bytes (0: the order JSON as it is) between 0 and 16777216, got -1"},
		{"2:39", "broker.connections", `must be one of per-stage, per-worker, shared, got "per-wroker" (did you mean "per-worker"?)`},
	}},
	{"broker body too large", ok + "broker:\n  body_bytes: 20000000\n", []want{{"3:15", "broker.body_bytes", "between 0 and 16777216, got 20000000"}}},
	{"broker persistent as text", ok + "broker: {persistent: yes please}\n", []want{{"2:22", "broker.persistent", `must be true or false, got text "yes please"`}}},
	{"broker unknown field", ok + "broker: {body_byte: 1024}\n", []want{{"2:10", "broker.body_byte", `unknown field "body_byte"; valid fields are body_bytes, persistent, connections (did you mean "body_bytes"?)`}}},

	// Retry.
	{"retry ranges", ok + "retry: {max: 11, backoff: -1ms}\n", []want{
		{"2:14", "retry.max", "must be a number of resends (0: off) between 0 and 10, got 11"},
		{"2:27", "retry.backoff", "must be a positive duration like 100ms, got -1ms"},
	}},
	{"retry backoff too long", ok + "retry:\n  max: 2\n  backoff: 1m\n", []want{{"4:12", "retry.backoff", "1m0s is longer than the maximum of 10s"}}},
	{"retry unknown field", ok + "retry: {max: 2, attempts: 3}\n", []want{{"2:17", "retry.attempts", `unknown field "attempts"; valid fields are max, backoff`}}},

	// Thresholds.
	{"latency as number", ok + "thresholds: [{metric: e2e_p99, max: 500}]\n", []want{{"2:37", "thresholds[0].max", "e2e_p99 is a latency: write a duration like 500ms, not the number 500"}}},
	{"count as duration", ok + "thresholds: [{metric: lost_orders, max: 1s}]\n", []want{{"2:41", "thresholds[0].max", "lost_orders is a count: write a whole number like 0, not a duration"}}},
	{"count fraction", ok + "thresholds: [{metric: late_sends, max: 0.5}]\n", []want{{"2:40", "thresholds[0].max", "late_sends is a count: write a whole number ≥ 0, got 0.5"}}},
	{"ratio above 1", ok + "thresholds: [{metric: achieved_rate_ratio, min: 95}]\n", []want{{"2:49", "thresholds[0].min", "achieved_rate_ratio is a ratio: write a number between 0 and 1, got 95"}}},
	{"bound garbage", ok + "thresholds: [{metric: e2e_p99, max: fast}]\n", []want{{"2:37", "thresholds[0].max", `"fast" is neither a number nor a duration`}}},
	{"threshold without bound", ok + "thresholds: [{metric: e2e_p99}]\n", []want{{"2:14", "thresholds[0]", "needs max or min"}}},
	{"min above max", ok + "thresholds: [{metric: error_rate, min: 0.5, max: 0.1}]\n", []want{{"2:40", "thresholds[0].min", "0.5 is above max 0.1; no value could pass"}}},
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("test.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed without error: %+v", s)
			}
			if s != nil {
				t.Error("returned a scenario along with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				e := errs[i]
				if got := fmt.Sprintf("%d:%d", e.Line, e.Column); got != w.at || e.Field != w.field || !strings.Contains(e.Message, w.msg) || e.File != "test.yaml" {
					t.Errorf("problem %d:\n got  %s\n want test.yaml:%s: %s: …%s…", i, e, w.at, w.field, w.msg)
				}
			}
		})
	}
}

// TestAllProblemsAtOnce checks that one pass reports everything, in file
// order, and that the formatted output names file:line:column and field.
func TestAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	src := `name: many
sead: 1
stages:
  payment: {workers: 0}
phases:
  - {duration: 10, rate: 5/s}
  - {duration: 5s, rate: 5}
actions:
  - {at: 1s, scale: {stage: pay, workers: 2}}
thresholds:
  - {metric: e2e_p99, max: 1}
`
	_, err := Parse("many.yaml", []byte(src))
	wantLines := []string{
		`many.yaml:2:1: sead: unknown field "sead"`,
		`many.yaml:4:22: stages.payment.workers: must be a worker count between 1 and 1000, got 0`,
		`many.yaml:6:16: phases[0].duration: duration 10 needs a unit`,
		`many.yaml:7:26: phases[1].rate: rate 5 needs a unit`,
		`many.yaml:9:29: actions[0].scale.stage: must be one of payment, inventory, email, got "pay"`,
		`many.yaml:11:28: thresholds[0].max: e2e_p99 is a latency`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(wantLines), err)
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got  %s\n want %s…", i, lines[i], w)
		}
	}
}

func TestParseFull(t *testing.T) {
	t.Parallel()
	src := `# the DESIGN.md example, plus every rate form and action kind
name: burst
description: Quiet traffic, a 10x burst, and recovery.
seed: 42
x-fast: &fast {dist: constant, value: 8ms}
stages:
  payment:   {workers: 4, prefetch: 20, service_time: {dist: lognormal, median: 4ms, p99: 30ms}, decline_rate: 0.02}
  inventory: {workers: 2}
  email:     {workers: 2, service_time: *fast}
catalog: {products: 50, stock: 10000, price_cents: {min: 500, max: 9900}}
broker:  {body_bytes: 1024, persistent: false, connections: per-worker}
orders:  {product: {dist: zipf, s: 1.2}, quantity: {min: 1, max: 3}, users: 5000}
phases:
  - {name: warm-up, duration: 10s, rate: 50/s}
  - {name: burst,   duration: 5s,  rate: 3000/m}
  - {name: ramp,    duration: 30s, rate: {from: 100/s, to: 600/s}}
  - {name: wave,    duration: 60s, rate: {sine: {mean: 300/s, amplitude: 200/s, period: 20s}}}
  - {duration: 30s, rate: {steps: [100/s, 200/s]}}
  - {duration: 1m, rate: {burst: {base: 1/s, peak: 7200/h, every: 20s, for: 2s}}, arrivals: poisson}
actions:
  - {at: 20s, scale: {stage: payment, workers: 8}}
  - {at: 30s, fault: {stage: payment, decline_rate: 1.0, for: 10s}}
  - {at: 45s, stop: {stage: inventory, for: 5s}}
  - at: 50s
    description: slow email down
    set:
      <<: {stage: email}
      service_time: {dist: uniform, min: 1ms, max: 5ms}
  - {at: 60s, restock: {quantity: 100}}
  - {at: 70s, pause: {for: 5s}}
  - {at: 71s, backlog: {max: 0}}
  - {at: 72s, backlog: {max: 500, for: 10s}}
retry: {max: 3, backoff: 250ms}
thresholds:
  - {metric: e2e_p99, max: 500ms}
  - {metric: lost_orders, max: 0}
  - {metric: achieved_rate_ratio, min: 0.95}
`
	s, err := Parse("burst.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "burst" || s.Seed != 42 || *s.Stages.Payment.Workers != 4 || *s.Stages.Payment.DeclineRate != 0.02 {
		t.Errorf("top-level fields: %+v", s)
	}
	if b := s.Broker; b.BodyBytes == nil || *b.BodyBytes != 1024 || b.Persistent == nil || *b.Persistent || b.Connections != ConnPerWorker {
		t.Errorf("broker: %+v, want body_bytes 1024, persistent false, connections per-worker", b)
	}
	if st := s.Stages.Email.ServiceTime; st.Dist != DistConstant || *st.Value != Duration(8*time.Millisecond) {
		t.Errorf("email service time via alias: %+v", st)
	}
	if s.Stages.Get(StageInventory).ServiceTime != nil || s.Stages.Get("nope") != nil {
		t.Error("Stages.Get")
	}
	kinds := []string{ShapeConstant, ShapeConstant, ShapeRamp, ShapeSine, ShapeStep, ShapeBurst}
	for i, k := range kinds {
		if got := s.Phases[i].Rate.Kind(); got != k {
			t.Errorf("phases[%d] kind %q, want %q", i, got, k)
		}
	}
	if got := *s.Phases[1].Rate.Constant; got != 50 {
		t.Errorf("3000/m = %v, want 50/s", got)
	}
	if got := s.Phases[5].Rate.Burst.Peak; got != 2 {
		t.Errorf("7200/h = %v, want 2/s", got)
	}
	if s.Phases[4].Name != "phase-5" || s.Phases[0].Arrivals != ArrivalsUniform || s.Phases[5].Arrivals != ArrivalsPoisson {
		t.Errorf("phase defaults: %+v", s.Phases[4])
	}
	if got, want := s.TotalDuration(), 3*time.Minute+15*time.Second; got != want {
		t.Errorf("TotalDuration = %s, want %s", got, want)
	}
	if got := s.PhaseStart(2); got != 15*time.Second {
		t.Errorf("PhaseStart(2) = %s", got)
	}
	actionKinds := []string{ActionScale, ActionFault, ActionStop, ActionSet, ActionRestock, ActionPause, ActionBacklog, ActionBacklog}
	for i, k := range actionKinds {
		if got := s.Actions[i].Kind(); got != k {
			t.Errorf("actions[%d] kind %q, want %q", i, got, k)
		}
	}
	if b := s.Actions[6].Backlog; b.Max != 0 || b.For != 0 {
		t.Errorf("backlog off: %+v", b)
	}
	if b := s.Actions[7].Backlog; b.Max != 500 || b.For != Duration(10*time.Second) {
		t.Errorf("backlog 500 for 10s: %+v", b)
	}
	if s.Retry.Max != 3 || s.Retry.Backoff != Duration(250*time.Millisecond) {
		t.Errorf("retry: %+v", s.Retry)
	}
	if set := s.Actions[3].Knobs(); set.Stage != StageEmail || set.ServiceTime.Dist != DistUniform {
		t.Errorf("set via merge key: %+v", set)
	}
	if s.Actions[1].Knobs().For != Duration(10*time.Second) || *s.Actions[1].Knobs().DeclineRate != 1 {
		t.Errorf("fault: %+v", s.Actions[1].Fault)
	}
	th := s.Thresholds
	if th[0].Kind() != MetricLatency || !th[0].Max.IsDuration || th[0].Max.Duration() != 500*time.Millisecond {
		t.Errorf("e2e_p99 threshold: %+v", th[0])
	}
	if !th[0].Check(float64(400*time.Millisecond)) || th[0].Check(float64(600*time.Millisecond)) {
		t.Error("latency threshold check")
	}
	if !th[1].Check(0) || th[1].Check(1) || th[2].Check(0.9) || !th[2].Check(0.97) {
		t.Error("count/ratio threshold checks")
	}
	if got := th[0].String(); got != "e2e_p99 ≤ 500ms" {
		t.Errorf("String() = %q", got)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := Parse("dir/my-scenario.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my-scenario" {
		t.Errorf("name from file: %q", s.Name)
	}
	c, o := s.Catalog, s.Orders
	if c.Products != DefaultProducts || c.Stock != DefaultStock || c.PriceCents.Min != DefaultPriceMinCents || c.PriceCents.Max != DefaultPriceMaxCents {
		t.Errorf("catalog defaults: %+v", c)
	}
	if s.Retry.Max != 0 || s.Retry.Backoff != DefaultRetryBackoff {
		t.Errorf("retry defaults: off with a 100ms backoff, got %+v", s.Retry)
	}
	if o.Product.Dist != ProductUniform || o.Quantity.Min != DefaultQuantityMin || o.Quantity.Max != DefaultQuantityMax || o.Users != DefaultUsers {
		t.Errorf("orders defaults: %+v", o)
	}
	if _, err := Parse("bom.yaml", append([]byte("\xef\xbb\xbf"), ok...)); err != nil {
		t.Errorf("a byte-order mark: %v", err)
	}
	z, err := Parse("z.yaml", []byte(ok+"orders: {product: {dist: zipf}, quantity: {max: 1}}\ncatalog: {price_cents: {max: 100}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if z.Orders.Product.S != DefaultZipfS || z.Orders.Quantity.Min != 1 || z.Catalog.PriceCents.Min != 100 {
		t.Errorf("defaults must fit the values given: %+v %+v", z.Orders, z.Catalog)
	}
}

// TestValidateInCode: a scenario built in Go gets field paths without
// positions.
func TestValidateInCode(t *testing.T) {
	t.Parallel()
	s := &Scenario{Name: "code"}
	s.SetDefaults()
	err := s.Validate()
	if err == nil || err.Error() != "phases: needs at least one phase, like - {name: steady, duration: 60s, rate: 50/s}" {
		t.Fatalf("Validate() = %v", err)
	}
	r := Rate(10)
	s.Phases = []Phase{{Duration: Duration(time.Second), Rate: RateSpec{Constant: &r}}}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("valid scenario: %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Column: 7, Field: "phases[1].rate", Message: "bad"}, "a.yaml:3:7: phases[1].rate: bad"},
		{Error{File: "a.yaml", Line: 1, Column: 1, Message: "invalid YAML: x"}, "a.yaml:1:1: invalid YAML: x"},
		{Error{Field: "name", Message: "is required"}, "name: is required"},
		{Error{Line: 2, Column: 4, Field: "seed", Message: "m"}, "2:4: seed: m"},
	}
	for _, tc := range cases {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Rate
		err  string
	}{
		{"50/s", 50, ""},
		{"3000/m", 50, ""},
		{"180/h", 0.05, ""},
		{"0.5/s", 0.5, ""},
		{" 10 / s ", 10, ""},
		{"0/s", 0, ""},
		{"50", 0, "needs a unit"},
		{"50/ms", 0, "the unit must be s, m or h"},
		{"50/", 0, "the unit must be s, m or h"},
		{"/s", 0, "is not a rate"},
		{"1e3/s", 0, "is not a rate"},
		{"fast", 0, "is not a rate"},
	}
	for _, tc := range cases {
		got, err := ParseRate(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRate(%q) error = %v; want …%s…", tc.in, err, tc.err)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	names := Metrics()
	for _, want := range []string{"e2e_p50", "e2e_p999", "e2e_max", "payment_queue_wait_p99", "email_service_time_max", "error_rate", "lost_orders", "duplicated_orders", "double_charges", "dead_lettered", "achieved_rate_ratio", "late_sends"} {
		k, ok := MetricKindOf(want)
		if !ok || k == 0 {
			t.Errorf("metric %s missing", want)
		}
	}
	if len(names) != 5+3*2*5+7 {
		t.Errorf("%d metrics", len(names))
	}
	if k, _ := MetricKindOf("inventory_queue_wait_p90"); k != MetricLatency {
		t.Errorf("kind %v", k)
	}
	if _, ok := MetricKindOf("e2e_p95"); ok {
		t.Error("e2e_p95 accepted")
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	// 10 aliases of a 1000-step list, repeated 20 times, is 200k values
	// from a few kilobytes.
	var b strings.Builder
	b.WriteString("x-s: &s [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("1/s")
	}
	b.WriteString("]\nphases:\n")
	for range 200 {
		b.WriteString("  - {duration: 10s, rate: {steps: *s}}\n")
	}
	_, err := Parse("big.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("err = %v", err)
	}
}
