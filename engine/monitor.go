package engine

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"oms-sim/engine/broker"
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
	e *Engine

	mu       sync.Mutex
	queues   map[string]*queueState
	stages   map[string]*stageRates
	accepted rate
	terminal rate
	e2eHist  *history
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
}

type queueState struct {
	info    broker.QueueInfo
	err     string
	peak    int
	in, out rate
	history *history
}

// stageRates holds a stage's sampled rates and the load figures derived
// from them at each tick.
type stageRates struct {
	handled, delivered rate
	// util is offered load ρ and busy the workers' busy share, both over
	// the last loadWindow; peak is the highest util since start (or
	// reset) once a full window was seen.
	util, busy, peak float64
	offered, taken   float64
}

// loadWindow is the window over which utilisation is measured: long
// enough to smooth the 4 Hz depth polls, short enough to show a burst.
const loadWindow = 5 * time.Second

// watchedQueues are the queues shown in snapshots, in pipeline order.
var watchedQueues = []string{StageQueue(StagePayment), StageQueue(StageInventory), StageQueue(StageEmail), QueueDead}

func newMonitor(e *Engine) *monitor {
	m := &monitor{e: e, queues: map[string]*queueState{}, stages: map[string]*stageRates{}, e2eHist: newHistory(historyLen)}
	for _, q := range watchedQueues {
		m.queues[q] = &queueState{history: newHistory(historyLen)}
	}
	for _, s := range StageNames {
		m.stages[s] = &stageRates{}
	}
	m.selfCPU = newCPUMeter(selfCPU)
	m.machineCPU = newCPUMeter(machineCPU)
	m.brokerCPU = newCPUMeter(nil)
	if e.cfg.BrokerKind != "embedded" {
		m.findBroker()
	}
	return m
}

// findBroker looks for a broker process on this host to measure.
func (m *monitor) findBroker() {
	m.brokerPID = localBrokerPID(m.e.cfg.Dialer.Describe())
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
		for _, q := range watchedQueues {
			info, err := conn.Inspect(m.e.names.Of(q))
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
	e := m.e
	e.ledger.sweep(now)
	c := e.ledger.counts()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accepted.add(now, c.Accepted)
	m.terminal.add(now, c.Accepted-c.Open)
	for name, s := range e.stages {
		r := m.stages[name]
		r.handled.add(now, s.stats.handled.Load())
		r.delivered.add(now, s.stats.delivered.Load())
	}
	// A queue's out-rate is its consumer stage's delivery rate; its
	// in-rate (arrivals) is that plus the change in depth: whatever came
	// in was either taken or is still waiting.
	for _, name := range StageNames {
		qs := m.queues[StageQueue(name)]
		d := e.stages[name].stats.delivered.Load()
		qs.out.add(now, d)
		qs.in.add(now, d+int64(qs.info.Ready))
		m.load(name, qs)
	}
	dq := m.queues[QueueDead]
	var dead int64
	for _, s := range e.stages {
		dead += s.stats.dead.Load()
	}
	dq.in.add(now, dead)
	if now.Sub(m.lastHist) >= historyEvery {
		m.lastHist = now
		m.selfCPU.sample(now)
		m.machineCPU.sample(now)
		if !m.brokerCPU.sample(now) && m.brokerPID != 0 {
			m.findBroker() // restarted: a new process
		}
		for _, q := range watchedQueues {
			m.queues[q].history.add(float64(m.queues[q].info.Ready))
		}
		m.e2eHist.add(float64(e.ledger.e2e.Recent().P99) / float64(time.Millisecond))
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
func (m *monitor) load(name string, qs *queueState) {
	r := m.stages[name]
	s := m.e.stages[name]
	workers := s.workerCount()
	if !m.e.cfg.hasRole(name) {
		workers = qs.info.Consumers
	}
	r.offered = max(0, qs.in.per(loadWindow))
	r.taken = r.delivered.per(loadWindow)
	mean := s.stats.service.RecentMean().Seconds()
	r.util, r.busy = 0, 0
	if workers > 0 {
		r.util = r.offered * mean / float64(workers)
		r.busy = min(1, r.taken*mean/float64(workers))
	}
	if qs.in.span() >= loadWindow {
		r.peak = max(r.peak, r.util)
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
	for _, r := range m.stages {
		r.peak = 0
	}
}

// Snapshot implements Reader.
func (e *Engine) Snapshot() Snapshot {
	m := e.mon
	snap := Snapshot{
		Time:    time.Now(),
		Started: e.started,
		Process: e.cfg.Process,
		Roles:   append([]string(nil), e.cfg.Roles...),
		Broker: BrokerStatus{
			Kind: e.cfg.BrokerKind, URL: e.cfg.Dialer.Describe(), Note: e.cfg.BrokerNote,
			QueueType: e.cfg.QueueType, Connected: e.Connected(), Reconnects: e.reconnects.Load(),
			BodyBytes: e.cfg.BodyBytes, Persistent: !e.cfg.Transient, Connections: e.cfg.Connections,
			Sessions: e.live.nodes(),
		},
		E2E:       e.ledger.e2e.Total(),
		E2ERecent: e.ledger.e2e.Recent(),
		Orders:    e.ledger.counts(),
		API: APIStats{
			Accepted: e.api.accepted.Load(), Rejected: e.api.rejected.Load(),
			Unavailable: e.api.unavailable.Load(), Publish: e.pub.confirm.Recent(),
			Indeterminate: e.api.indeterminate.Load(),
			Unroutable:    e.api.unroutable.Load(),
			Unauthorized:  e.api.unauthorized.Load(), Admin: e.cfg.adminMode(),
		},
		Admission: e.admissionStatus(),
	}
	snap.API.Shed = snap.Admission.Shed
	snap.Recent, _ = e.store.list(OrderQuery{Limit: recentInSnapshot})
	if r, ok := e.events.(StatsReporter); ok {
		snap.Events = r.LogStats()
	} else {
		snap.Events = EventLogStats{Kind: e.cfg.Events, Connected: true}
		if snap.Events.Kind == "" {
			snap.Events.Kind = EventsMemory
		}
	}
	e.mu.Lock()
	snap.Errors = e.errors.newestFirst()
	snap.Changes = e.changes.newestFirst()
	if !snap.Broker.Connected {
		snap.Broker.LastError = e.lastError
	}
	e.mu.Unlock()

	snap.Broker.Blocked, snap.Broker.BlockedReason = e.live.blocked()
	snap.Broker.Nodes = NodeLoad{RunQueue: -1}
	switch {
	case e.mgmt != nil:
		snap.Broker.Nodes = e.mgmt.get()
		snap.Broker.Side = e.mgmt.getSide()
	case e.cfg.BrokerKind == "embedded":
		snap.Broker.Side = sideOff("embedded broker: no management API")
	default:
		snap.Broker.Side = sideOff("management API off (--management-url off)")
	}
	m.mu.Lock()
	snap.Broker.CPU, snap.ProcessCPU, snap.MachineCPU = m.brokerCPU.cores, m.selfCPU.cores, m.machineCPU.cores
	snap.AcceptRate = m.accepted.per(time.Second)
	snap.TerminalRate = m.terminal.per(time.Second)
	snap.E2EHistory = m.e2eHist.copy()
	for _, name := range StageNames {
		ss := e.stages[name].snapshot()
		r := m.stages[name]
		ss.Rate1s = r.handled.per(time.Second)
		ss.Rate10s = r.handled.per(10 * time.Second)
		ss.ArrivalRate, ss.DeliveryRate = r.offered, r.taken
		ss.Utilisation, ss.Busy, ss.PeakUtilisation = r.util, r.busy, r.peak
		if !e.cfg.hasRole(name) {
			ss.Remote = true
			ss.Running = m.queues[StageQueue(name)].info.Consumers
			ss.InFlight = max(0, ss.InFlight) // outcomes of orders started before we listened
		}
		snap.Stages = append(snap.Stages, ss)
	}
	for _, q := range watchedQueues {
		qs := m.queues[q]
		qsnap := QueueSnapshot{
			Name: m.e.names.Of(q), Queue: q, Ready: qs.info.Ready, Consumers: qs.info.Consumers, PeakReady: qs.peak,
			InRate: qs.in.per(10 * time.Second), OutRate: qs.out.per(10 * time.Second),
			History: qs.history.copy(), Err: qs.err,
		}
		for _, name := range StageNames {
			if StageQueue(name) == q {
				qsnap.Unacked = int(max(0, e.stages[name].stats.inflight.Load()))
			}
		}
		snap.Queues = append(snap.Queues, qsnap)
	}
	m.mu.Unlock()
	for i := range snap.Stages {
		predict(&snap.Stages[i], snap.Queues[i])
	}
	markBottleneck(&snap)
	return snap
}

// recentInSnapshot is how many orders a snapshot carries; more come from
// Orders.
const recentInSnapshot = 200

// markBottleneck marks the stage limiting the pipeline: a paused or
// workerless stage with a backlog, else the one with the highest offered
// load ρ, if that is 0.7 or more.
func markBottleneck(s *Snapshot) {
	type cand struct {
		i      int
		score  float64
		reason string
	}
	var cs []cand
	for i, st := range s.Stages {
		q := s.Queues[i]
		switch {
		case st.Remote && st.Running == 0 && q.Ready > 0:
			cs = append(cs, cand{i, 1e9 + float64(q.Ready), fmt.Sprintf("no consumers with %d waiting", q.Ready)})
		case !st.Remote && (st.Paused || st.Config.Workers == 0) && q.Ready > 0:
			cs = append(cs, cand{i, 1e9 + float64(q.Ready), fmt.Sprintf("stopped with %d waiting", q.Ready)})
		case st.Utilisation >= 0.7:
			reason := fmt.Sprintf("ρ %.0f%%: %.0f/s arrive × %v ÷ %d workers", st.Utilisation*100, st.ArrivalRate,
				st.ServiceRecent.Mean.Round(10*time.Microsecond), st.Running)
			if st.Utilisation >= 1 {
				reason += fmt.Sprintf(", can take %.0f/s", st.ArrivalRate/st.Utilisation)
			}
			if grow := q.InRate - q.OutRate; q.Ready > 100 && grow > 0.05*q.OutRate {
				reason += fmt.Sprintf("; queue growing %.0f/s", grow)
			}
			cs = append(cs, cand{i, st.Utilisation, reason})
		}
	}
	if len(cs) == 0 {
		return
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].score > cs[b].score })
	s.Stages[cs[0].i].Bottleneck = true
	s.Stages[cs[0].i].Reason = cs[0].reason
}
