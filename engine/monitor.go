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
}

type queueState struct {
	info    broker.QueueInfo
	err     string
	peak    int
	in, out rate
	history *history
}

type stageRates struct{ handled, delivered rate }

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
	return m
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
	// in-rate is that plus the change in depth.
	for _, name := range StageNames {
		qs := m.queues[StageQueue(name)]
		d := e.stages[name].stats.delivered.Load()
		qs.out.add(now, d)
		qs.in.add(now, d+int64(qs.info.Ready)+e.stages[name].stats.inflight.Load())
	}
	dq := m.queues[QueueDead]
	var dead int64
	for _, s := range e.stages {
		dead += s.stats.dead.Load()
	}
	dq.in.add(now, dead)
	if now.Sub(m.lastHist) >= historyEvery {
		m.lastHist = now
		for _, q := range watchedQueues {
			m.queues[q].history.add(float64(m.queues[q].info.Ready))
		}
		m.e2eHist.add(float64(e.ledger.e2e.Recent().P99) / float64(time.Millisecond))
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
		},
		E2E:       e.ledger.e2e.Total(),
		E2ERecent: e.ledger.e2e.Recent(),
		Orders:    e.ledger.counts(),
		API: APIStats{
			Accepted: e.api.accepted.Load(), Rejected: e.api.rejected.Load(),
			Unavailable: e.api.unavailable.Load(), Publish: e.pub.confirm.Recent(),
			Shed: e.adm.shed.Load(), Indeterminate: e.api.indeterminate.Load(),
		},
		Admission: e.admissionStatus(),
	}
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

	m.mu.Lock()
	snap.AcceptRate = m.accepted.per(time.Second)
	snap.TerminalRate = m.terminal.per(time.Second)
	snap.E2EHistory = m.e2eHist.copy()
	for _, name := range StageNames {
		ss := e.stages[name].snapshot()
		r := m.stages[name]
		ss.Rate1s = r.handled.per(time.Second)
		ss.Rate10s = r.handled.per(10 * time.Second)
		ss.ArrivalRate = r.delivered.per(10 * time.Second)
		if !e.cfg.hasRole(name) {
			ss.Remote = true
			ss.Running = m.queues[StageQueue(name)].info.Consumers
			ss.InFlight = max(0, ss.InFlight) // outcomes of orders started before we listened
		}
		if ss.Running > 0 {
			mean := ss.ServiceRecent.Mean
			ss.Utilisation = ss.ArrivalRate * mean.Seconds() / float64(ss.Running)
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
	markBottleneck(&snap)
	return snap
}

// recentInSnapshot is how many orders a snapshot carries; more come from
// Orders.
const recentInSnapshot = 200

// markBottleneck marks the stage limiting the pipeline: a paused or
// workerless stage with a backlog, else the one whose queue is growing
// fastest, else the highest utilisation above 0.7.
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
		case q.Ready > 100 && q.InRate > q.OutRate*1.05:
			cs = append(cs, cand{i, 1e6 + q.InRate - q.OutRate, fmt.Sprintf("queue growing %.0f/s (in %.0f/s, out %.0f/s)", q.InRate-q.OutRate, q.InRate, q.OutRate)})
		case st.Utilisation >= 0.7:
			cs = append(cs, cand{i, st.Utilisation, fmt.Sprintf("utilisation %.0f%% (%.0f/s × %v ÷ %d workers)", st.Utilisation*100, st.ArrivalRate, st.ServiceRecent.Mean.Round(10*time.Microsecond), st.Running)})
		}
	}
	if len(cs) == 0 {
		return
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].score > cs[b].score })
	s.Stages[cs[0].i].Bottleneck = true
	s.Stages[cs[0].i].Reason = cs[0].reason
}
