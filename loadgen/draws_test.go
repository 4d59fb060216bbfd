package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/broker/embedded"
	"oms-sim/engine/httpapi"
	"oms-sim/internal/brokertest"
	"oms-sim/loadgen/scenario"
)

func TestDrawKeyNamesSeedAndSequence(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: keys
seed: 9
phases: [{duration: 1s, rate: 10/s}]
`)
	m := newMix(sc)
	for i := 1; i <= 3; i++ {
		if got, want := m.next().DrawKey, fmt.Sprintf("9/%d", i); got != want {
			t.Errorf("order %d: draw key %q, want %q", i, got, want)
		}
	}
}

// TestIdempotencyKeyNamesRunAndArrival: the http driver's key is the run
// id and the arrival's draw key, so two runs with the same seed never
// share a key (the engine would answer the second with the first's
// orders), and a retry of one arrival reuses it.
func TestIdempotencyKeyNamesRunAndArrival(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	keys := map[string]int{}
	draws := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys[r.Header.Get(engine.HeaderIdempotencyKey)]++
		draws[r.Header.Get(engine.HeaderDrawKey)] = true
		first := keys[r.Header.Get(engine.HeaderIdempotencyKey)] == 1
		mu.Unlock()
		if first && strings.HasSuffix(r.Header.Get(engine.HeaderDrawKey), "/2") {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable) // the second arrival is retried once
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"order_id":"x"}`)
	}))
	defer srv.Close()
	d := NewHTTPDriver(srv.URL)
	defer d.CloseIdleConnections()
	sc := parse(t, `
name: keyed
seed: 5
retry: {max: 1}
phases: [{duration: 300ms, rate: 10/s}]
`)
	e := startDialed(t, embeddedDialer(t), sc)
	for _, run := range []string{"run-a", "run-b"} {
		// The engine only watches (its own API is not the one loaded);
		// its audit of the fake's orders is not the point.
		r, err := New(Config{Scenario: sc, Engine: e, Driver: d, RunID: run, DrainTimeout: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i <= 3; i++ {
		for _, run := range []string{"run-a", "run-b"} {
			k := fmt.Sprintf("%s/5/%d", run, i)
			want := 1
			if i == 2 {
				want = 2 // the retry, with the same key
			}
			if keys[k] != want {
				t.Errorf("key %s sent %d times, want %d (keys %v)", k, keys[k], want, keys)
			}
		}
		if !draws[fmt.Sprintf("5/%d", i)] {
			t.Errorf("no request with draw key 5/%d (got %v)", i, draws)
		}
	}
}

func embeddedDialer(t *testing.T) broker.Dialer {
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	return b
}

// startDialed starts an engine for sc on d in a fresh namespace, with the
// mutates applied last; it closes, and on RabbitMQ its topology goes, at
// cleanup.
func startDialed(t *testing.T, d broker.Dialer, sc *scenario.Scenario, mutate ...func(*engine.Config)) *engine.Engine {
	t.Helper()
	ns := brokertest.Namespace(t)
	cfg := engine.Config{Dialer: d, Namespace: ns, Process: ns}
	ApplyToConfig(sc, &cfg)
	for _, m := range mutate {
		if m != nil {
			m(&cfg)
		}
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.Started(t, d, e.Start, e.Close, func() broker.Topology {
		return e.Names().Topology(cfg.QueueType, engine.DefaultRetryDelays)
	})
	return e
}

// perOrder is what one order of a run came to, by its draw key.
type perOrder struct {
	product, quantity, user int
	status                  engine.Status
	retries                 int
}

// TestSameSeedSameOrdersAcrossRuns runs one scenario twice, on separate
// engines with different worker counts, through each driver and on each
// broker: every arrival (by its place in the run) is the same order, is
// declined or not, and is retried as often, although its order id and the
// worker that handled it differ.
func TestSameSeedSameOrdersAcrossRuns(t *testing.T) {
	dialers := map[string]func(t *testing.T) broker.Dialer{
		"rabbitmq": func(t *testing.T) broker.Dialer { return brokertest.Dialer(t) },
		"embedded": embeddedDialer,
	}
	sc := parse(t, `
name: twice
seed: 31
stages:
  payment:   {workers: 1, service_time: {dist: uniform, min: 0s, max: 2ms}, decline_rate: 0.3, error_rate: 0.15}
  inventory: {workers: 1, error_rate: 0.15}
catalog: {products: 20, stock: 1000000}
orders:  {product: {dist: zipf, s: 1.2}, quantity: {min: 1, max: 3}, users: 1000}
phases: [{duration: 1500ms, rate: 100/s}]
`)
	for bname, dial := range dialers {
		for _, drv := range []string{DriverHTTP, DriverPublish} {
			t.Run(bname+"/"+drv, func(t *testing.T) {
				t.Parallel()
				var runs [2]map[string]perOrder
				ids := map[string]bool{}
				for i, workers := range []int{1, 4} {
					e := startDialed(t, dial(t), sc, func(c *engine.Config) {
						for _, name := range engine.StageNames {
							st := c.Stages[name]
							st.Workers = workers
							c.Stages[name] = st
						}
					})
					var driver Driver = PublishDriver{P: e}
					if drv == DriverHTTP {
						driver = httpDriverFor(t, httpapi.Handler(e))
					}
					rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: driver})
					if rep.Audit.Lost != 0 || rep.Sent != 150 {
						t.Fatalf("run %d: sent %d, audit %+v", i, rep.Sent, rep.Audit)
					}
					recs, _ := e.Orders(engine.OrderQuery{Limit: 1000, Events: true})
					runs[i] = map[string]perOrder{}
					for _, rec := range recs {
						if rec.DrawKey == "" {
							t.Fatalf("order %s has no draw key", rec.OrderID)
						}
						if ids[rec.OrderID] {
							t.Fatalf("order id %s in both runs", rec.OrderID)
						}
						ids[rec.OrderID] = true
						p := perOrder{product: rec.ProductID, quantity: rec.Quantity, user: rec.UserID, status: rec.Status}
						for _, ev := range rec.Events {
							if ev.Type == engine.EventRetried {
								p.retries++
							}
						}
						runs[i][rec.DrawKey] = p
					}
				}
				if len(runs[0]) != 150 || len(runs[1]) != 150 {
					t.Fatalf("%d and %d orders in the store, want 150 each", len(runs[0]), len(runs[1]))
				}
				declined, retried := 0, 0
				for k, a := range runs[0] {
					if b := runs[1][k]; a != b {
						t.Errorf("arrival %s: %+v with one worker per stage, %+v with four", k, a, b)
					}
					if a.status == engine.StatusPaymentFailed {
						declined++
					}
					if a.retries > 0 {
						retried++
					}
				}
				t.Logf("150 arrivals, each the same order with the same outcome in both runs: %d declined, %d retried", declined, retried)
				if declined < 20 || retried < 15 {
					t.Errorf("%d declined and %d retried of 150: too few to compare", declined, retried)
				}
			})
		}
	}
}

// TestReplayRecordsTheEngineAsItRan: the run.scenario record carries the
// engine's seed and stage settings as they were (a --seed and stage flags
// change them from the file), every arrival its draw key; the replay's
// scenario re-applies them, and its arrivals keep the draw keys, so the
// replay draws as the run did.
func TestReplayRecordsTheEngineAsItRan(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: flagged
seed: 3
stages: {payment: {workers: 1, decline_rate: 0.1}}
phases: [{duration: 500ms, rate: 20/s}]
`)
	e := startDialed(t, embeddedDialer(t), sc, func(c *engine.Config) {
		c.Seed = 77 // as --seed 77 would
		p := c.Stages[engine.StagePayment]
		p.Workers, p.ServiceTime = 3, engine.Dist{Kind: engine.DistUniform, Min: time.Millisecond, Max: 2 * time.Millisecond}
		c.Stages[engine.StagePayment] = p
	})
	events := runEvents(t, e)
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, Record: true})
	recorded := events()
	re, err := ScenarioOf(rep.RunID, recorded)
	if err != nil || re == nil {
		t.Fatalf("ScenarioOf: %v %v", re, err)
	}
	p := re.Stages.Payment
	if re.Seed != 77 || p == nil || *p.Workers != 3 || *p.DeclineRate != 0.1 || p.ServiceTime.Dist != engine.DistUniform ||
		p.ServiceTime.Max.Std() != 2*time.Millisecond {
		t.Errorf("recorded scenario: seed %d, payment %+v; want seed 77, 3 workers, decline 0.1, uniform 1–2ms", re.Seed, p)
	}
	cfg := engine.Config{}
	ApplyToConfig(re, &cfg)
	if got := cfg.Stages[engine.StagePayment]; cfg.Seed != 77 || got.Workers != 3 || got.ServiceTime != (engine.Dist{Kind: engine.DistUniform, Min: time.Millisecond, Max: 2 * time.Millisecond}) {
		t.Errorf("the replay's engine: seed %d, payment %+v", cfg.Seed, got)
	}
	_, arrivals, err := ArrivalsOf(rep.RunID, recorded)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range arrivals {
		if want := fmt.Sprintf("3/%d", i+1); a.Req.DrawKey != want {
			t.Errorf("arrival %d: draw key %q, want %q", i, a.Req.DrawKey, want)
		}
	}
}
