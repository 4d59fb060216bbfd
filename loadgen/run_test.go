package loadgen

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/brokertest"
	"oms-sim/loadgen/scenario"
)

// startEngine runs an engine on the real RabbitMQ in a namespace of the
// test's own, configured by the scenario.
func startEngine(t *testing.T, sc *scenario.Scenario) *engine.Engine {
	t.Helper()
	return startEngineWith(t, sc, nil)
}

// startEngineWith is startEngine with mutate applied to the config last.
func startEngineWith(t *testing.T, sc *scenario.Scenario, mutate func(*engine.Config)) *engine.Engine {
	t.Helper()
	return startDialed(t, brokertest.Dialer(t), sc, mutate)
}

// runScenario runs cfg's scenario to its report, failing the test on an
// error. Broker defaults to the engine's, DrainTimeout to 30 s.
func runScenario(t *testing.T, cfg Config) *Report {
	t.Helper()
	if cfg.Broker.Kind == "" {
		cfg.Broker = cfg.Engine.Snapshot().Broker
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// runEvents records the events of e that belong to a run (RunID set)
// until the test ends; the function returned gives those so far.
func runEvents(t *testing.T, e *engine.Engine) func() []engine.Event {
	var mu sync.Mutex
	var events []engine.Event
	t.Cleanup(e.Subscribe(func(ev engine.Event) {
		if ev.RunID != "" {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
	}))
	return func() []engine.Event {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(events)
	}
}

// httpDriverFor serves h on a test server and returns an http driver
// for it; both close at cleanup.
func httpDriverFor(t *testing.T, h http.Handler) *HTTPDriver {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	d := NewHTTPDriver(srv.URL)
	t.Cleanup(d.CloseIdleConnections)
	return d
}

func parse(t *testing.T, yaml string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestRunAuditsEveryOrder(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: short
seed: 3
stages:
  payment: {workers: 2, service_time: {dist: uniform, min: 1ms, max: 3ms}, decline_rate: 0.1}
catalog: {products: 5, stock: 40}
orders: {product: {dist: zipf, s: 1.5}, quantity: {min: 1, max: 2}}
phases:
  - {name: a, duration: 2s, rate: 100/s}
  - {name: b, duration: 2s, rate: {from: 100/s, to: 300/s}}
thresholds:
  - {metric: lost_orders, max: 0}
  - {metric: duplicated_orders, max: 0}
`)
	e := startEngine(t, sc)
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}})
	a := rep.Audit
	if a.Lost != 0 || a.Duplicated != 0 || !rep.Passed {
		t.Fatalf("audit %+v passed %v", a, rep.Passed)
	}
	// 200 + 400 orders are scheduled.
	if a.Accepted != 600 || rep.Sent != 600 {
		t.Errorf("accepted %d sent %d, want 600", a.Accepted, rep.Sent)
	}
	if sum := a.Confirmed + a.PaymentFailed + a.Refunded + a.DeadLettered; sum != a.Accepted {
		t.Errorf("terminal statuses add up to %d, accepted %d", sum, a.Accepted)
	}
	// Small stock and skewed demand: some orders were refunded, some declined.
	if a.Refunded == 0 || a.PaymentFailed == 0 {
		t.Errorf("audit %+v: want refunds (stock 40) and declines (rate 0.1)", a)
	}
	// The engine's own counts agree with the audit.
	c := e.Counts()
	if c.Accepted != a.Accepted || c.Confirmed != a.Confirmed || c.Refunded != a.Refunded || c.PaymentFailed != a.PaymentFailed {
		t.Errorf("engine counts %+v disagree with the audit %+v", c, a)
	}
	// And the broker has nothing left in flight.
	for _, q := range e.Snapshot().Queues {
		if q.Ready != 0 || q.Unacked != 0 {
			t.Errorf("queue %s holds %d ready, %d unacked after the drain", q.Name, q.Ready, q.Unacked)
		}
	}
	// Every arrival is accounted for in its phase; on a loaded machine a
	// few may leave after their phase ended (overdue), never more than
	// were due.
	for _, p := range rep.Phases {
		if float64(p.SentInPhase+p.Overdue+p.Dropped+p.Skipped) != math.Round(p.Expected) || p.Ratio > 1.01 || p.Ratio < 0.5 {
			t.Errorf("phase %s: in phase %d + overdue %d + dropped %d + skipped %d, expected %.0f; ratio %.3f",
				p.Name, p.SentInPhase, p.Overdue, p.Dropped, p.Skipped, math.Round(p.Expected), p.Ratio)
		}
	}
	if rep.E2E.Count != a.Accepted || rep.E2E.P50 <= 0 {
		t.Errorf("e2e %+v", rep.E2E)
	}
	// The ledger: every order not declined charged once, every refund
	// after an out_of_stock, and the stock the engine holds now is what
	// the audit worked out from the events (engine/inventory.go's
	// details parse).
	lg := a.Ledger
	if lg.Charges != a.Accepted-a.PaymentFailed || lg.Problems() != 0 {
		t.Errorf("ledger %+v: want %d charges and no fault", lg, a.Accepted-a.PaymentFailed)
	}
	var left int64
	for _, p := range e.Inventory() {
		left += int64(p.Stock)
	}
	if lg.Stock.Products != 5 || lg.Stock.Checked != 5 || lg.Stock.Taken != 5*40-left {
		t.Errorf("stock audit %+v: want 5 products checked, %d units taken (the engine holds %d of 200)", lg.Stock, 200-left, left)
	}
	// The JSON report round-trips with the same counts.
	path := filepath.Join(t.TempDir(), "out.json")
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var back Report
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &back); err != nil || back.Audit.Accepted != a.Accepted || back.Version != ReportVersion {
		t.Fatalf("JSON report: %v %+v", err, back.Audit)
	}
}

func TestOutageDeclinesOnlyInsideItsWindow(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: outage
seed: 5
phases:
  - {name: steady, duration: 4s, rate: 100/s}
actions:
  - {at: 1500ms, fault: {stage: payment, decline_rate: 1.0, for: 1s}}
`)
	e := startEngine(t, sc)
	var mu sync.Mutex
	var declines []time.Time
	unsub := e.Subscribe(func(ev engine.Event) {
		if ev.Type == engine.EventDeclined {
			mu.Lock()
			declines = append(declines, ev.Time)
			mu.Unlock()
		}
	})
	defer unsub()
	r, err := New(Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, Broker: e.Snapshot().Broker})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(declines) < 50 || int64(len(declines)) != rep.Audit.PaymentFailed {
		t.Fatalf("%d declines, %d payment_failed in the audit; want about 100 of each", len(declines), rep.Audit.PaymentFailed)
	}
	// The window is when the engine applied and undid the fault (timers
	// run late on a loaded machine; the window is what the engine did).
	var from, to time.Time
	for _, c := range e.Snapshot().Changes {
		switch c.Text {
		case "payment decline rate 0 → 1":
			from = c.Time
		case "payment decline rate 1 → 0":
			to = c.Time
		}
	}
	if from.IsZero() || to.IsZero() {
		t.Fatalf("fault not applied and undone: changes %+v", e.Snapshot().Changes)
	}
	// Actions run on the run's absolute timeline (start at 1.5s, end at
	// 2.5s); timers fire late on a loaded machine, never early, so the
	// bounds are loose upwards only.
	if off := from.Sub(start); off < 1450*time.Millisecond || off > 4*time.Second {
		t.Errorf("fault applied at %v, want 1.5s", off)
	}
	if off := to.Sub(start); off < 2450*time.Millisecond || off > 5*time.Second {
		t.Errorf("fault undone at %v, want 2.5s", off)
	}
	for _, d := range declines {
		// A worker that read the knob just before the undo logs just after.
		if d.Before(from) || d.After(to.Add(50*time.Millisecond)) {
			t.Errorf("decline at %v, outside the fault [%v, %v]", d.Sub(start), from.Sub(start), to.Sub(start))
		}
	}
	if rep.Audit.Lost != 0 || rep.Audit.Confirmed < 250 {
		t.Errorf("audit %+v", rep.Audit)
	}
}

func TestThresholdFails(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: impossible
phases: [{duration: 1s, rate: 50/s}]
thresholds:
  - {metric: e2e_p50, max: 1us}
  - {metric: lost_orders, max: 0}
`)
	e := startEngine(t, sc)
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, DrainTimeout: DefaultDrainTimeout})
	if rep.Passed || rep.Thresholds[0].Pass || !rep.Thresholds[1].Pass {
		t.Fatalf("passed %v thresholds %+v: want e2e_p50 ≤ 1µs to fail and lost_orders to pass", rep.Passed, rep.Thresholds)
	}
}

// TestRefusedActionFailsTheRun: an action that passes validation but
// that the engine refuses when it fires (a scale to 600 workers of a
// stage with prefetch 200: 120 000 unacknowledged messages, above the
// engine's 100 000) is in the report — when, what, why — in every
// format, and fails the run although every threshold passed. The
// actions around it still run.
func TestRefusedActionFailsTheRun(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: refused
stages:
  email: {workers: 1, prefetch: 200}
phases: [{duration: 1500ms, rate: 40/s}]
actions:
  - {at: 200ms, scale: {stage: email, workers: 600}}
  - {at: 400ms, scale: {stage: email, workers: 2}}
thresholds:
  - {metric: lost_orders, max: 0}
`)
	e := startEngine(t, sc)
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}})
	if rep.Passed || !rep.Thresholds[0].Pass || rep.Audit.Lost != 0 {
		t.Fatalf("passed %v, thresholds %+v, lost %d: want a failed run with every threshold passed", rep.Passed, rep.Thresholds, rep.Audit.Lost)
	}
	if len(rep.FailedActions) != 1 {
		t.Fatalf("failed actions %+v, want the scale to 600", rep.FailedActions)
	}
	f := rep.FailedActions[0]
	if f.AtMs != 200 || f.Action != "email scaled to 600 workers" || !strings.Contains(f.Error, "workers × prefetch must be at most 100000") {
		t.Errorf("failed action %+v", f)
	}
	if st, _ := e.StageConfig("email"); st.Workers != 2 {
		t.Errorf("email has %d workers; the refused scale must change nothing and the next one apply", st.Workers)
	}
	txt := rep.Text()
	for _, want := range []string{"FAILED ACTIONS", "at 200ms", "email scaled to 600 workers", "RESULT: FAILED (1 action refused)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt)
		}
	}
	if md := rep.Markdown(); !strings.Contains(md, "## Failed actions") {
		t.Errorf("markdown report lacks the failed actions:\n%s", md)
	}
	page, err := rep.HTML()
	if err != nil || !strings.Contains(page, "<h2>Failed actions</h2>") || !strings.Contains(page, "workers × prefetch") {
		t.Errorf("HTML report lacks the failed actions (%v)", err)
	}
	data, _ := json.Marshal(rep)
	if !strings.Contains(string(data), `"failed_actions":[{"at_ms":200,"action":"email scaled to 600 workers","error":"stage email: workers × prefetch`) {
		t.Errorf("JSON report: %.2000s", data)
	}
}

func TestRecordAndReplay(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: recorded
seed: 11
orders: {product: {dist: zipf, s: 1.4}}
phases:
  - {duration: 1s, rate: 100/s, arrivals: poisson}
  - {duration: 1s, rate: {from: 50/s, to: 250/s}}
`)
	e := startEngine(t, sc)
	events := runEvents(t, e)
	run := func(sc *scenario.Scenario, replay []Arrival) *Report {
		return runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, Record: true, Replay: replay, DrainTimeout: DefaultDrainTimeout})
	}
	first := run(sc, nil)
	name, recorded, err := ArrivalsOf(first.RunID, events())
	if err != nil || name != "recorded" {
		t.Fatalf("ArrivalsOf: %q %v", name, err)
	}
	if int64(len(recorded)) != first.Sent {
		t.Fatalf("recorded %d arrivals, the run sent %d", len(recorded), first.Sent)
	}
	rsc, arrivals, err := ReplayScenario(name, recorded, 2)
	if err != nil {
		t.Fatal(err)
	}
	second := run(rsc, arrivals)
	if second.Sent != first.Sent || second.Audit.Lost != 0 || !second.Passed {
		t.Fatalf("replay sent %d (first %d), audit %+v", second.Sent, first.Sent, second.Audit)
	}
	_, again, err := ArrivalsOf(second.RunID, events())
	if err != nil {
		t.Fatal(err)
	}
	// Same orders in the same order, at half the recorded offsets.
	for i := range recorded {
		if again[i].Req != recorded[i].Req {
			t.Fatalf("arrival %d: replayed %+v, recorded %+v", i, again[i].Req, recorded[i].Req)
		}
		if want := recorded[i].At / 2; again[i].At < want-time.Microsecond || again[i].At > want+time.Microsecond {
			t.Fatalf("arrival %d at %v, want %v (half of %v)", i, again[i].At, want, recorded[i].At)
		}
	}
	// The offsets above are the schedule; how long the run took on this
	// (shared) machine is not asserted.
}
