package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/telemetry"
)

// Monitor cadence: queue depths and rates are sampled at 4 Hz; sparkline
// histories take one point a second.
const (
	sampleEvery  = 250 * time.Millisecond
	historyEvery = time.Second
	historyLen   = 60
)

// monitor polls queue depths on its own connection and samples counters
// into rates and histories for snapshots.
type monitor struct {
	monitorDeps
	// watched are the queues polled, in pipeline order: each stage's
	// work queue, then the dead letters (DESIGN.md §3 names).
	watched []string

	mu       sync.Mutex
	queues   map[string]*queueState
	rates    map[string]*stageRates // by stage
	accepted telemetry.Rate
	terminal telemetry.Rate
	e2eHist  *telemetry.History
	lastHist time.Time
	// ready is the sum of the work queues' ready messages at the last
	// poll: the backlog admission control judges by, read without a lock
	// on every POST.
	ready atomic.Int64
	// brokerCPU measures a broker on this host (its beam.smp), selfCPU
	// this process; sampled once a second.
	brokerPID  int
	brokerCPU  *cpuMeter
	selfCPU    *cpuMeter
	machineCPU *cpuMeter
	// sched is this process's goroutine scheduling latency (runtime/metrics).
	sched *schedMeter
}

type queueState struct {
	info    broker.QueueInfo
	err     string
	peak    int
	in, out telemetry.Rate
	history *telemetry.History
}

// stageRates holds a stage's sampled rates and the load figures derived
// from them at each tick.
type stageRates struct {
	handled, delivered telemetry.Rate
	// util is offered load ρ and busy the workers' busy share, both over
	// the last loadWindow; peak is the highest util since start (or
	// reset) once a full window was seen.
	util, busy, peak float64
	offered, taken   float64
}

// loadWindow is the window over which utilisation is measured: long
// enough to smooth the 4 Hz depth polls, short enough to show a burst.
const loadWindow = 5 * time.Second

// monitorDeps is what the monitor uses of the engine, passed in by New.
type monitorDeps struct {
	names  Names
	ledger *ledger
	stages []*stage // in pipeline order
	// remote reports whether a stage runs in other processes only.
	remote     func(stage string) bool
	brokerKind string        // Config.BrokerKind
	brokerURL  func() string // Config.Dialer.Describe
}

func newMonitor(deps monitorDeps) *monitor {
	m := &monitor{monitorDeps: deps, queues: map[string]*queueState{}, rates: map[string]*stageRates{}, e2eHist: telemetry.NewHistory(historyLen)}
	for _, s := range deps.stages {
		m.watched = append(m.watched, StageQueue(s.name))
		m.rates[s.name] = &stageRates{}
	}
	m.watched = append(m.watched, QueueDead)
	for _, q := range m.watched {
		m.queues[q] = &queueState{history: telemetry.NewHistory(historyLen)}
	}
	m.selfCPU = newCPUMeter(selfCPU)
	m.machineCPU = newCPUMeter(machineCPU)
	m.sched = newSchedMeter()
	m.brokerCPU = newCPUMeter(nil)
	if deps.brokerKind != "embedded" {
		m.findBroker()
	}
	return m
}

// findBroker looks for a broker process on this host to measure.
func (m *monitor) findBroker() {
	m.brokerPID = localBrokerPID(m.brokerURL())
	if m.brokerPID == 0 {
		m.brokerCPU.read = nil
		return
	}
	pid := m.brokerPID
	m.brokerCPU = newCPUMeter(func() (time.Duration, bool) { return ProcCPU(pid) })
}

// session polls queue depths until the connection is lost.
func (m *monitor) session(ctx context.Context, conn broker.Conn) error {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		var ready int64
		for _, q := range m.watched {
			info, err := conn.Inspect(m.names.Of(q))
			if err == nil && q != QueueDead {
				ready += int64(info.Ready)
			}
			m.mu.Lock()
			qs := m.queues[q]
			if err != nil {
				qs.err = err.Error()
			} else {
				qs.info, qs.err = info, ""
				qs.peak = max(qs.peak, info.Ready)
			}
			m.mu.Unlock()
		}
		m.ready.Store(ready)
		select {
		case <-ctx.Done():
			return nil
		case <-conn.Closed():
			return conn.Err()
		case <-t.C:
		}
	}
}

// sample turns counters into rates and histories until ctx ends.
func (m *monitor) sample(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.tick(now)
		}
	}
}

func (m *monitor) tick(now time.Time) {
	m.ledger.sweep(now)
	c := m.ledger.counts()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accepted.Add(now, c.Accepted)
	m.terminal.Add(now, c.Accepted-c.Open)
	for _, s := range m.stages {
		r := m.rates[s.name]
		r.handled.Add(now, s.stats.handled.Load())
		r.delivered.Add(now, s.stats.delivered.Load())
	}
	// A queue's out-rate is its consumer stage's delivery rate; its
	// in-rate (arrivals) is that plus the change in depth: whatever came
	// in was either taken or is still waiting.
	for _, s := range m.stages {
		qs := m.queues[StageQueue(s.name)]
		d := s.stats.delivered.Load()
		qs.out.Add(now, d)
		qs.in.Add(now, d+int64(qs.info.Ready))
		m.load(s, qs)
	}
	dq := m.queues[QueueDead]
	var dead int64
	for _, s := range m.stages {
		dead += s.stats.dead.Load()
	}
	dq.in.Add(now, dead)
	if now.Sub(m.lastHist) >= historyEvery {
		m.lastHist = now
		m.selfCPU.sample(now)
		m.machineCPU.sample(now)
		m.sched.sample()
		if !m.brokerCPU.sample(now) && m.brokerPID != 0 {
			m.findBroker() // restarted: a new process
		}
		for _, q := range m.watched {
			m.queues[q].history.Add(float64(m.queues[q].info.Ready))
		}
		m.e2eHist.Add(float64(m.ledger.e2e.Recent().P99) / float64(time.Millisecond))
	}
}

// load derives a stage's utilisation from the rates just sampled.
//
// ρ is offered load: the rate messages arrive in the stage's queue, times
// the mean service time, divided by the workers. Above 1 the stage cannot
// keep up and its queue grows. The rate the workers take messages at
// cannot exceed their capacity, so a figure built on it (busy) stays at
// or below 1 however overloaded the stage is: it is kept as well, under
// its own name, as the share of time the workers are busy.
func (m *monitor) load(s *stage, qs *queueState) {
	r := m.rates[s.name]
	workers := s.workerCount()
	if m.remote(s.name) {
		workers = qs.info.Consumers
	}
	r.offered = max(0, qs.in.Per(loadWindow))
	r.taken = r.delivered.Per(loadWindow)
	mean := s.stats.service.RecentMean().Seconds()
	r.util, r.busy = 0, 0
	if workers > 0 {
		r.util = r.offered * mean / float64(workers)
		r.busy = min(1, r.taken*mean/float64(workers))
	}
	if qs.in.Span() >= loadWindow {
		r.peak = max(r.peak, r.util)
	}
}

// queueSnapshot returns a watched queue's figures; the caller holds m.mu.
func (m *monitor) queueSnapshot(q string) QueueSnapshot {
	qs := m.queues[q]
	return QueueSnapshot{
		Name: m.names.Of(q), Queue: q, Ready: qs.info.Ready, Consumers: qs.info.Consumers, PeakReady: qs.peak,
		InRate: qs.in.Per(10 * time.Second), OutRate: qs.out.Per(10 * time.Second),
		History: qs.history.Values(), Err: qs.err,
	}
}

// backlog returns the work queues' ready messages at the last poll.
func (m *monitor) backlog() int { return int(m.ready.Load()) }

func (m *monitor) resetPeaks() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, qs := range m.queues {
		qs.peak = qs.info.Ready
	}
	for _, r := range m.rates {
		r.peak = 0
	}
}
