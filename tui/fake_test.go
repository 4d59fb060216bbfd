package tui

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

// t0 is the fixed start of every fake run.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeNow is the fixed clock of every test.
func fakeNow() time.Time { return t0.Add(95 * time.Second) }

// fakeSource is a deterministic Source.
type fakeSource struct {
	mu     sync.Mutex
	snap   engine.Snapshot
	orders []engine.OrderRecord // newest first
	byID   map[string]int
	calls  int
}

func newFakeSource(n int) *fakeSource {
	f := &fakeSource{snap: fakeSnapshot(), byID: map[string]int{}}
	for i := 0; i < n; i++ {
		r := fakeOrder(n - 1 - i)
		f.byID[r.OrderID] = len(f.orders)
		f.orders = append(f.orders, r)
	}
	return f
}

func (f *fakeSource) Snapshot() engine.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.snap
}

func (f *fakeSource) setSnapshot(s engine.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
}

func (f *fakeSource) Orders(q engine.OrderQuery) ([]engine.OrderRecord, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	match := func(st engine.Status) bool {
		if len(q.Status) == 0 {
			return true
		}
		for _, w := range q.Status {
			if w == st || w == "failed" && st.Terminal() && st != engine.StatusConfirmed || w == "open" && !st.Terminal() {
				return true
			}
		}
		return false
	}
	var out []engine.OrderRecord
	total := 0
	for _, r := range f.orders {
		if !match(r.Status) {
			continue
		}
		total++
		if total <= q.Offset || q.Limit > 0 && len(out) >= q.Limit {
			continue
		}
		c := r
		if !q.Events {
			c.Events = nil
		}
		out = append(out, c)
	}
	return out, total
}

func (f *fakeSource) Order(id string) (engine.OrderRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.byID[id]
	if !ok {
		return engine.OrderRecord{}, false
	}
	return f.orders[i], true
}

// fakeOrder builds order number i (higher is newer) with a timeline that
// matches its status.
func fakeOrder(i int) engine.OrderRecord {
	id := fmt.Sprintf("0195944e-%04x-7%03x-8%03x-%012x", i/65536%65536, i%4096, (i*7)%4096, uint64(i)*2654435761%(1<<48))
	at := t0.Add(time.Duration(i) * 9 * time.Millisecond)
	o := engine.Order{OrderID: id, ProductID: 1 + i*7%50, Quantity: 1 + i%3, UserID: 100 + i%5000,
		AmountCents: int64(500 + i*37%9400), CreatedAt: at}
	ev := func(typ, stage, worker string, off time.Duration, detail string) engine.Event {
		return engine.Event{OrderID: id, Type: typ, Stage: stage, Worker: worker, Time: at.Add(off), Detail: detail}
	}
	r := engine.OrderRecord{Order: o, AcceptedAt: at}
	evs := []engine.Event{ev(engine.EventAccepted, "api", "api", 0, "")}
	w := func(stage string) string { return fmt.Sprintf("%s-%d", stage, i%4) }
	switch {
	case i%97 == 13:
		evs = append(evs,
			ev(engine.EventPaymentStarted, "payment", w("payment"), 2*time.Millisecond, "order.created after 1.6ms in the queue"),
			ev(engine.EventRetried, "payment", w("payment"), 3*time.Millisecond, "attempt 1: transient error, retry in 100ms"),
			ev(engine.EventPaymentStarted, "payment", w("payment"), 104*time.Millisecond, "order.created after 1ms in the queue, attempt 2"),
			ev(engine.EventRetried, "payment", w("payment"), 105*time.Millisecond, "attempt 2: transient error, retry in 1s"),
			ev(engine.EventPaymentStarted, "payment", w("payment"), 1109*time.Millisecond, "order.created after 3ms in the queue, attempt 3"),
			ev(engine.EventDeadLettered, "payment", w("payment"), 1110*time.Millisecond, "max attempts (3) exceeded"))
		r.Status = engine.StatusDeadLettered
	case i%31 == 7:
		r.Reason = "card declined"
		evs = append(evs, ev(engine.EventDeclined, "payment", w("payment"), 4*time.Millisecond, "card declined"),
			ev(engine.EventEmailSent, "email", w("email"), 15*time.Millisecond, "declined notice"))
		r.Status = engine.StatusPaymentFailed
	case i%53 == 11:
		r.Reason = "out of stock"
		evs = append(evs, ev(engine.EventPaid, "payment", w("payment"), 3*time.Millisecond, ""),
			ev(engine.EventOutOfStock, "inventory", w("inventory"), 7*time.Millisecond, "product 12: 0 left"),
			ev(engine.EventRefunded, "payment", w("payment"), 11*time.Millisecond, "refund 39.98"))
		r.Status = engine.StatusRefunded
	case i%10 == 9:
		evs = append(evs, ev(engine.EventPaid, "payment", w("payment"), 3*time.Millisecond, ""))
		r.Status = engine.StatusPaid
	default:
		evs = append(evs, ev(engine.EventPaymentStarted, "payment", w("payment"), 2*time.Millisecond, "order.created after 2ms in the queue"),
			ev(engine.EventPaid, "payment", w("payment"), 3*time.Millisecond+time.Duration(i%5)*time.Millisecond, ""),
			ev(engine.EventInventoryStarted, "inventory", w("inventory"), 11*time.Millisecond, "payment.success after 3ms in the queue"),
			ev(engine.EventStockTaken, "inventory", w("inventory"), 12*time.Millisecond, ""),
			ev(engine.EventEmailStarted, "email", w("email"), 20*time.Millisecond, "inventory.updated after 8ms in the queue"),
			ev(engine.EventConfirmed, "email", w("email"), 21*time.Millisecond, "to user "+fmt.Sprint(100+i%5000)))
		r.Status = engine.StatusConfirmed
	}
	r.Events = evs
	if r.Status.Terminal() {
		r.TerminalAt = evs[len(evs)-1].Time
		r.Latency = r.TerminalAt.Sub(at)
		r.Terminals = 1
	}
	return r
}

func pct(p50, p90, p99, max time.Duration, n int64) telemetry.Percentiles {
	return telemetry.Percentiles{Count: n, Mean: p50, P50: p50, P90: p90, P99: p99, P999: max, Max: max}
}

func wave(n int, scale, phase float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round(scale * (1 + math.Sin(float64(i)/6+phase)))
	}
	return out
}

func fakeSnapshot() engine.Snapshot {
	ms := time.Millisecond
	lognormal := engine.Dist{Kind: engine.DistLognormal, Median: 4 * ms, P99: 30 * ms}
	stage := func(name string, cfg engine.StageConfig, running int, util float64) engine.StageSnapshot {
		return engine.StageSnapshot{Name: name, Config: cfg, Running: running, InFlight: int64(running * 3),
			Handled: 41000, OK: 40800, Failed: 12, Retried: 10, Dead: 2,
			Rate1s: 310, Rate10s: 305, ArrivalRate: 320,
			QueueWait: pct(2*ms, 9*ms, 40*ms, 200*ms, 41000), Service: pct(4*ms, 12*ms, 30*ms, 90*ms, 41000),
			QueueWaitRecent: pct(3*ms, 11*ms, 55*ms, 120*ms, 3000), ServiceRecent: pct(4*ms, 13*ms, 29*ms, 60*ms, 3000),
			Utilisation: util}
	}
	pay := stage(engine.StagePayment, engine.StageConfig{Workers: 4, Prefetch: 20, ServiceTime: lognormal, DeclineRate: 0.02}, 4, 0.93)
	pay.Declined, pay.Bottleneck = 812, true
	pay.Reason = "utilisation 93% (320/s × 11.6ms ÷ 4 workers)"
	inv := stage(engine.StageInventory, engine.StageConfig{Workers: 2, Prefetch: 100, ServiceTime: engine.Constant(0)}, 2, 0.12)
	inv.OutOfStock = 3
	email := stage(engine.StageEmail, engine.StageConfig{Workers: 2, Prefetch: 100, ServiceTime: engine.Constant(8 * ms), ErrorRate: 0.1}, 2, 0.41)
	queue := func(name string, ready, unacked int, in, out float64, phase float64) engine.QueueSnapshot {
		return engine.QueueSnapshot{Name: name, Queue: name, Ready: ready, Unacked: unacked, Consumers: 2, PeakReady: ready * 3,
			InRate: in, OutRate: out, History: wave(60, float64(ready)/2, phase)}
	}
	return engine.Snapshot{
		Time: t0.Add(95 * time.Second), Started: t0,
		Broker: engine.BrokerStatus{Kind: "rabbitmq", URL: "amqp://guest@localhost:5672/", QueueType: "quorum", Connected: true,
			// The broker's view: other processes hold more of payment's
			// unacked messages than this one's 80; one connection in flow.
			Side: engine.BrokerSide{Available: true, Connections: 5, Flow: 1, Queues: []engine.BrokerQueue{
				{Name: "oms.payment", Ready: 1840, Unacked: 240, Consumers: 6, PublishRate: 1002.4, DeliverRate: 930.1},
				{Name: "oms.inventory", Ready: 0, Unacked: 4, Consumers: 2, PublishRate: 305, DeliverRate: 305},
				{Name: "oms.email", Ready: 12, Unacked: 6, Consumers: 2, PublishRate: 306, DeliverRate: 300},
				{Name: "oms.dead", Ready: 2, Unacked: 0, Consumers: 0, PublishRate: 0.1, DeliverRate: 0},
			}}},
		Process: "test-1", Roles: []string{"api", "payment", "inventory", "email"},
		Stages: []engine.StageSnapshot{pay, inv, email},
		Queues: []engine.QueueSnapshot{
			queue("oms.payment", 1840, 80, 1000, 310, 0),
			queue("oms.inventory", 0, 4, 305, 305, 1),
			queue("oms.email", 12, 6, 306, 300, 2),
			queue("oms.dead", 2, 0, 0.1, 0, 3),
		},
		E2E:        pct(14*ms, 60*ms, 380*ms, 2100*ms, 40790),
		E2ERecent:  pct(22*ms, 140*ms, 610*ms, 900*ms, 3000),
		E2EHistory: wave(60, 200, 0.5),
		Orders: engine.OrderCounts{Accepted: 42345, Open: 1550, Confirmed: 39900, PaymentFailed: 812,
			Refunded: 3, DeadLettered: 80},
		AcceptRate: 987, TerminalRate: 305,
		API: engine.APIStats{Accepted: 42345},
		Errors: []engine.ErrorEntry{
			{Time: t0.Add(93 * time.Second), Stage: "payment", OrderID: fakeOrder(13).OrderID, Message: "dead-lettered: max attempts (3) exceeded"},
			{Time: t0.Add(80 * time.Second), Stage: "email", Message: "publish email.sent: confirm timeout"},
			{Time: t0.Add(20 * time.Second), Message: "broker connection lost; reconnected after 1.2s"},
		},
		Changes: []engine.Change{
			{Time: t0.Add(60 * time.Second), Source: "scenario", Text: "payment workers 2 → 4"},
			{Time: t0.Add(30 * time.Second), Source: "dashboard", Text: "email error_rate 0 → 0.1"},
		},
	}
}

// watcherSnapshot turns snap into what a --role none process shows: every
// stage run elsewhere, its workers its queue's consumers, no API.
func watcherSnapshot(snap engine.Snapshot) engine.Snapshot {
	snap.Roles = []string{engine.RoleNone}
	snap.API = engine.APIStats{}
	snap.Stages = slices.Clone(snap.Stages)
	for i := range snap.Stages {
		s := &snap.Stages[i]
		s.Remote, s.Running = true, snap.Queues[i].Consumers
	}
	return snap
}

// fakeControl records every steering call.
type fakeControl struct {
	mu    sync.Mutex
	calls []string
	last  engine.StagePatch
	cfg   map[string]engine.StageConfig
}

func newFakeControl() *fakeControl {
	c := &fakeControl{cfg: map[string]engine.StageConfig{}}
	for _, s := range fakeSnapshot().Stages {
		c.cfg[s.Name] = s.Config
	}
	return c
}

func (c *fakeControl) UpdateStage(source, stage string, p engine.StagePatch) (engine.StageConfig, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, ok := c.cfg[stage]
	if !ok {
		return engine.StageConfig{}, engine.ErrUnknownStage
	}
	desc := "update " + source + " " + stage
	if p.Workers != nil {
		cfg.Workers = *p.Workers
		desc += fmt.Sprintf(" workers=%d", *p.Workers)
	}
	if p.Prefetch != nil {
		cfg.Prefetch = *p.Prefetch
		desc += fmt.Sprintf(" prefetch=%d", *p.Prefetch)
	}
	if p.ServiceTime != nil {
		cfg.ServiceTime = *p.ServiceTime
		desc += " service=" + p.ServiceTime.String()
	}
	if p.ErrorRate != nil {
		cfg.ErrorRate = *p.ErrorRate
		desc += fmt.Sprintf(" error=%g", *p.ErrorRate)
	}
	if p.DeclineRate != nil {
		cfg.DeclineRate = *p.DeclineRate
		desc += fmt.Sprintf(" decline=%g", *p.DeclineRate)
	}
	c.cfg[stage] = cfg
	c.last = p
	c.calls = append(c.calls, desc)
	return cfg, nil
}

func (c *fakeControl) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *fakeControl) PauseStage(source, stage string) error {
	c.record("pause " + source + " " + stage)
	return nil
}

func (c *fakeControl) ResumeStage(source, stage string) error {
	c.record("resume " + source + " " + stage)
	return nil
}

func (c *fakeControl) Restock(source string, product, quantity int) error {
	c.record(fmt.Sprintf("restock %s %d %d", source, product, quantity))
	return nil
}

func (c *fakeControl) SetMaxBacklog(source string, n int) error {
	c.record(fmt.Sprintf("max-backlog %s %d", source, n))
	return nil
}

func (c *fakeControl) Note(source, text string) { c.record("note " + source + " " + text) }

func (c *fakeControl) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// fakeLoad is a loadgen.Controller that records calls.
type fakeLoad struct {
	mu    sync.Mutex
	prog  loadgen.Progress
	calls []string
}

func newFakeLoad(scenario bool) *fakeLoad {
	f := &fakeLoad{prog: loadgen.Progress{State: loadgen.StateIdle}}
	if scenario {
		f.prog = loadgen.Progress{State: loadgen.StateRunning, Scenario: "burst", Description: "Quiet traffic, a 10x burst, and recovery.",
			Phase: "burst", PhaseIndex: 1, Phases: 4, PhaseElapsed: 2 * time.Second, PhaseTotal: 5 * time.Second,
			Elapsed: 65 * time.Second, Total: 105 * time.Second, TargetRate: 1000, AchievedRate: 987,
			Sent: 42400, Accepted: 42345, InFlight: 12}
	}
	return f
}

func (f *fakeLoad) Progress() loadgen.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prog
}

func (f *fakeLoad) setProgress(p loadgen.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prog = p
}

func (f *fakeLoad) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeLoad) Pause()  { f.record("pause") }
func (f *fakeLoad) Resume() { f.record("resume") }
func (f *fakeLoad) SetManualRate(r float64) error {
	f.record(fmt.Sprintf("rate %g", r))
	return nil
}

func (f *fakeLoad) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var (
	_ Source             = (*fakeSource)(nil)
	_ engine.Control     = (*fakeControl)(nil)
	_ loadgen.Controller = (*fakeLoad)(nil)
)
