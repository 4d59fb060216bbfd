package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/httpapi"
)

// The tests in this file start engines of their own and run one after
// the other, before the parallel tests: they would otherwise add to the
// load under the timing-sensitive connection-loss test.

// heldDriver places orders through the engine, but only once released:
// a system under test that stops answering.
type heldDriver struct {
	PublishDriver
	release chan struct{}
}

func (d heldDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	<-d.release
	return d.PublishDriver.Send(ctx, req)
}

// eventually polls cond until it holds and reports whether it did; the
// deadline only guards against a hang, it measures nothing.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestFullInFlightDropsArrivals: with two slots and a system that does
// not answer, two orders are sent and every other arrival is dropped at
// once, not sent late after the system recovers.
func TestFullInFlightDropsArrivals(t *testing.T) {
	sc := parse(t, `
name: held
phases:
  - {name: only, duration: 1s, rate: 40/s}
`)
	e := startEngine(t, sc)
	release := make(chan struct{})
	r, err := New(Config{Scenario: sc, Engine: e, Driver: heldDriver{PublishDriver{P: e}, release}, Broker: e.Snapshot().Broker, MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(release)
		if !eventually(func() bool { p := r.Progress(); return p.Sent+p.Dropped == 40 }) {
			t.Error("the schedule never ended")
		}
	}()
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Phases[0]
	if rep.Sent != 2 || rep.Dropped != 38 || p.Sent != 2 || p.Dropped != 38 || p.Accepted != 2 {
		t.Fatalf("sent %d dropped %d; phase %+v: want 2 sent, 38 dropped", rep.Sent, rep.Dropped, p)
	}
	if rep.MaxInFlight != 2 || rep.Audit.Accepted != 2 || rep.Audit.Lost != 0 {
		t.Errorf("max in-flight %d, audit %+v", rep.MaxInFlight, rep.Audit)
	}
	if p.Ratio > 2.0/40+1e-9 {
		t.Errorf("ratio %.3f counts more than the 2 orders sent", p.Ratio)
	}
	if !strings.Contains(rep.Text(), "only: offered 40/s, sent ") || !strings.Contains(rep.Text(), ", dropped 38, ") {
		t.Errorf("the report does not say what was dropped:\n%s", rep.Text())
	}
}

// TestManualLoadDropsArrivals: hand-driven load follows the same policy.
func TestManualLoadDropsArrivals(t *testing.T) {
	sc := parse(t, "name: manual\nphases: [{duration: 1s, rate: 1/s}]\n")
	e := startEngine(t, sc)
	release := make(chan struct{})
	r, err := New(Config{Engine: e, Driver: heldDriver{PublishDriver{P: e}, release}, Broker: e.Snapshot().Broker, MaxInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.RunManual(ctx)
	}()
	if err := r.SetManualRate(200); err != nil {
		t.Fatal(err)
	}
	ok := eventually(func() bool { return r.Progress().Dropped >= 5 })
	p := r.Progress()
	cancel()
	close(release)
	<-done
	if !ok {
		t.Fatal("no arrival was dropped")
	}
	if p.Sent != 1 || p.InFlight != 1 {
		t.Errorf("sent %d in flight %d with one slot held; want 1 and 1", p.Sent, p.InFlight)
	}
	if p := r.Progress(); p.Accepted != 1 || p.Failed != 0 {
		t.Errorf("accepted %d failed %d after release, want 1 and 0", p.Accepted, p.Failed)
	}
}

// TestManualLoadIsLateLikeAScenario: manual load walks the scenarios'
// send loop, so a generator that stalls counts late sends and records
// their lateness in manual load exactly as in a scenario. The stall is
// made by holding the runner's lock, which the loop takes before each
// send: the arrivals due meanwhile leave tens of milliseconds late.
func TestManualLoadIsLateLikeAScenario(t *testing.T) {
	sc := parse(t, "name: stalled\nphases: [{name: only, duration: 60s, rate: 200/s}]\n")
	e := startEngine(t, sc)
	for _, manual := range []bool{false, true} {
		name := map[bool]string{false: "scenario", true: "manual"}[manual]
		cfg := Config{Engine: e, Driver: PublishDriver{P: e}, Broker: e.Snapshot().Broker, DrainTimeout: 10 * time.Second}
		if !manual {
			cfg.Scenario = sc
		}
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if manual {
				r.RunManual(ctx)
			} else if _, err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
		if manual {
			if err := r.SetManualRate(200); err != nil {
				t.Fatal(err)
			}
		}
		sending := eventually(func() bool { return r.Progress().Sent >= 20 })
		before := r.Progress().LateSends
		r.mu.Lock()
		time.Sleep(150 * time.Millisecond) // about 30 arrivals fall due
		r.mu.Unlock()
		late := eventually(func() bool { return r.Progress().LateSends > before })
		r.mu.Lock()
		maxLate := time.Duration(r.lateHist.Max()) * time.Microsecond
		r.mu.Unlock()
		p := r.Progress()
		cancel()
		<-done
		if !sending || !late {
			t.Fatalf("%s: sending %v, late sends after the stall %v (progress %+v)", name, sending, late, p)
		}
		if maxLate < 50*time.Millisecond {
			t.Errorf("%s: the latest send left %v late; the stall held the loop for 150ms", name, maxLate)
		}
		if !p.Manual == manual {
			t.Errorf("%s: progress says manual %v", name, p.Manual)
		}
	}
}

// fakeAPI answers POST /api/orders from a script, then places the order
// with the real engine and answers 202 (or 200 when replay is set).
type fakeAPI struct {
	t      *testing.T
	e      *engine.Engine
	script []answer
	replay bool

	mu   sync.Mutex
	keys []string
	id   string // the order placed, if any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	if n := len(f.keys); n <= len(f.script) {
		f.script[n-1].write(w)
		return
	}
	var body struct {
		ProductID int `json:"product_id"`
		Quantity  int `json:"quantity"`
		UserID    int `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("decode order: %v", err)
	}
	o, err := f.e.PlaceOrder(r.Context(), engine.OrderRequest{ProductID: body.ProductID, Quantity: body.Quantity, UserID: body.UserID})
	if err != nil {
		f.t.Errorf("place order: %v", err)
	}
	f.id = o.OrderID
	code := http.StatusAccepted
	if f.replay {
		code = http.StatusOK
	}
	answer{code, `{"order_id": "` + o.OrderID + `", "status": "pending"}`, ""}.write(w)
}

// TestRetriesKeepTheKey: an order shed twice is resent with the same
// Idempotency-Key and counted once, accepted, with two retries; when the
// retries run out the arrival counts as shed, and a key mismatch is not
// retried at all.
func TestRetriesKeepTheKey(t *testing.T) {
	shed := answer{503, `{"error": "queues full", "reason": "backlog", "backlog": 20, "max_backlog": 10}`, "0"}
	cases := []struct {
		name     string
		retry    string
		script   []answer
		replay   bool
		requests int
		accepted int64
		shed     int64
		failed   int64
		retries  int64
	}{
		{"shed twice, then accepted", "{max: 3, backoff: 1ms}", []answer{shed, shed}, false, 3, 1, 0, 0, 2},
		{"in use, then replayed", "{max: 1}", []answer{{409, `{"error": "busy", "reason": "idempotency_key_in_use"}`, ""}}, true, 2, 1, 0, 0, 1},
		{"retries run out", "{max: 2, backoff: 1ms}", []answer{shed, shed, shed}, false, 3, 0, 1, 0, 2},
		{"retry off", "{max: 0}", []answer{shed}, false, 1, 0, 1, 0, 0},
		{"mismatch is final", "{max: 3, backoff: 1ms}", []answer{{422, `{"error": "other body", "reason": "idempotency_key_mismatch"}`, ""}}, false, 1, 0, 0, 1, 0},
	}
	e := startEngine(t, parse(t, "name: x\nphases: [{duration: 1s, rate: 1/s}]\n"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := parse(t, "name: retry\nretry: "+tc.retry+"\nphases: [{name: one, duration: 1s, rate: 1/s}]\n")
			api := &fakeAPI{t: t, e: e, script: tc.script, replay: tc.replay}
			rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: httpDriverFor(t, api)})
			api.mu.Lock()
			keys, id := api.keys, api.id
			api.mu.Unlock()
			if len(keys) != tc.requests {
				t.Fatalf("%d requests, want %d", len(keys), tc.requests)
			}
			for _, k := range keys {
				if k == "" || k != keys[0] {
					t.Fatalf("keys %q: want one key, on every request", keys)
				}
			}
			p := rep.Phases[0]
			if p.Sent != 1 || p.Accepted != tc.accepted || p.Shed != tc.shed || p.Failed != tc.failed || p.Retries != tc.retries {
				t.Errorf("phase %+v: want accepted %d shed %d failed %d retries %d", p, tc.accepted, tc.shed, tc.failed, tc.retries)
			}
			if rep.Retries != tc.retries || rep.Shed != tc.shed || rep.Failed != tc.failed {
				t.Errorf("totals: retries %d shed %d failed %d", rep.Retries, rep.Shed, rep.Failed)
			}
			a := rep.Audit
			if a.Accepted != tc.accepted || a.Lost != 0 || a.Duplicated != 0 || (tc.accepted == 1 && (id == "" || a.Confirmed != 1)) {
				t.Errorf("audit %+v (order %q): want the order accepted and run once", a, id)
			}
			if tc.accepted == 1 && rep.Accept.Count != 1 {
				t.Errorf("accept latency %+v: want the one order", rep.Accept)
			}
		})
	}
}

// TestBacklogAction: the action sets the API's admission bound, "for"
// restores the bound it found, and one without "for" stays.
func TestBacklogAction(t *testing.T) {
	sc := parse(t, `
name: backlog
phases: [{duration: 1500ms, rate: 10/s}]
actions:
  - {at: 200ms, backlog: {max: 500, for: 400ms}}
  - {at: 1s, backlog: {max: 0}}
`)
	e := startEngine(t, sc)
	if err := e.SetMaxBacklog("test", 7000); err != nil {
		t.Fatal(err)
	}
	var seen []int
	var mu sync.Mutex
	unsub := e.Subscribe(func(engine.Event) {
		mu.Lock()
		if n := e.MaxBacklog(); len(seen) == 0 || seen[len(seen)-1] != n {
			seen = append(seen, n)
		}
		mu.Unlock()
	})
	defer unsub()
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, DrainTimeout: DefaultDrainTimeout})
	if rep.Audit.Lost != 0 || rep.Audit.Accepted != 15 {
		t.Errorf("audit %+v", rep.Audit)
	}
	if got := e.MaxBacklog(); got != 0 {
		t.Errorf("max backlog %d at the end, want 0 (off)", got)
	}
	var changes []string
	for _, c := range e.Snapshot().Changes { // newest first
		if c.Source == "scenario" && strings.HasPrefix(c.Text, "max backlog") {
			changes = append([]string{c.Text}, changes...)
		}
	}
	want := []string{"max backlog 7000 → 500", "max backlog 500 → 7000", "max backlog 7000 → off"}
	if strings.Join(changes, "; ") != strings.Join(want, "; ") {
		t.Errorf("changes %q, want %q", changes, want)
	}
	mu.Lock()
	defer mu.Unlock()
	// Orders flow the whole time, so their events saw the bound change.
	if len(seen) < 2 || seen[0] != 7000 || seen[len(seen)-1] != 0 {
		t.Errorf("bounds seen by events %v, want from 7000 to 0", seen)
	}
}

// TestShedAndRetryThroughTheRealAPI drives the engine's own HTTP API on
// RabbitMQ while payment is stopped and the admission bound is low: the
// API sheds, the driver retries with the same key after Retry-After, and
// the audit shows every accepted order ran once and none was lost. The
// report's shed count matches the API's.
func TestShedAndRetryThroughTheRealAPI(t *testing.T) {
	sc := parse(t, `
name: shed
stages: {payment: {workers: 1}}
retry: {max: 4}
phases: [{name: push, duration: 3s, rate: 100/s}]
actions:
  - {at: 0s, stop: {stage: payment, for: 2s}}
  - {at: 0s, backlog: {max: 40, for: 2500ms}}
thresholds:
  - {metric: lost_orders, max: 0}
  - {metric: duplicated_orders, max: 0}
`)
	e := startEngineWith(t, sc, func(c *engine.Config) { c.IdempotencyKeys = 10_000 })
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: httpDriverFor(t, httpapi.Handler(e))})
	snap := e.Snapshot()
	a := rep.Audit
	if snap.API.Shed == 0 || rep.Retries == 0 {
		t.Fatalf("API shed %d, driver retries %d: the stopped stage should have made the API shed and the driver retry", snap.API.Shed, rep.Retries)
	}
	// Every shed answer the driver got is one the API gave.
	if rep.Retries+rep.Shed > snap.API.Shed+snap.API.Unavailable {
		t.Errorf("driver saw %d retried + %d finally shed answers, the API gave %d shed + %d unavailable", rep.Retries, rep.Shed, snap.API.Shed, snap.API.Unavailable)
	}
	if a.Lost != 0 || a.Duplicated != 0 || a.Confirmed != a.Accepted || a.Accepted+rep.Shed+rep.Failed != rep.Sent || !rep.Passed {
		t.Errorf("audit %+v, sent %d shed %d failed %d: want every arrival accounted for, each accepted order run once", a, rep.Sent, rep.Shed, rep.Failed)
	}
	if c := e.Counts(); c.Accepted != a.Accepted || c.Duplicated != 0 || c.Orphaned != 0 {
		t.Errorf("engine counts %+v, audit accepted %d", c, a.Accepted)
	}
}
