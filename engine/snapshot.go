package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/telemetry"
)

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
			Sessions: e.live.nodes(), WritesBatched: writesBatched(e.cfg.Dialer),
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
	snap.SchedP99 = -1
	if m.sched.p99 >= 0 {
		snap.SchedP99 = float64(m.sched.p99) / float64(time.Millisecond)
	}
	snap.AcceptRate = m.accepted.Per(time.Second)
	snap.TerminalRate = m.terminal.Per(time.Second)
	snap.E2EHistory = m.e2eHist.Values()
	for _, s := range m.stages {
		ss := s.snapshot()
		r := m.rates[s.name]
		ss.Rate1s = r.handled.Per(time.Second)
		ss.Rate10s = r.handled.Per(10 * time.Second)
		ss.ArrivalRate, ss.DeliveryRate = r.offered, r.taken
		ss.Utilisation, ss.Busy, ss.PeakUtilisation = r.util, r.busy, r.peak
		ss.Queue = m.queueSnapshot(StageQueue(s.name))
		ss.Queue.Unacked = int(max(0, s.stats.inflight.Load()))
		if m.remote(s.name) {
			ss.Remote = true
			ss.Running = ss.Queue.Consumers
			ss.InFlight = max(0, ss.InFlight) // outcomes of orders started before we listened
		}
		snap.Stages = append(snap.Stages, ss)
		snap.Queues = append(snap.Queues, ss.Queue)
	}
	snap.Queues = append(snap.Queues, m.queueSnapshot(QueueDead))
	m.mu.Unlock()
	snap.State = e.stateStatus(snap.Stages)
	for i := range snap.Stages {
		predict(&snap.Stages[i], snap.Stages[i].Queue)
	}
	markBottleneck(&snap)
	return snap
}

// Stage returns the named stage's figures.
func (s Snapshot) Stage(name string) (StageSnapshot, bool) {
	for _, st := range s.Stages {
		if st.Name == name {
			return st, true
		}
	}
	return StageSnapshot{}, false
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
		q := st.Queue
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

// Snapshot is a copy of every live figure of the engine, cheap enough to
// take several times a second. Nothing in it is shared with the engine.
type Snapshot struct {
	Time    time.Time    `json:"time"`
	Started time.Time    `json:"started"`
	Broker  BrokerStatus `json:"broker"`
	// State is where the domain state lives (memory, or a database every
	// process shares) and the stock it holds.
	State StateStatus `json:"state"`
	// Process is this process's name; Roles the parts it runs.
	Process string `json:"process"`
	// ProcessCPU is the cores this process used over the last second (-1
	// before the first second).
	ProcessCPU float64 `json:"process_cpu_cores"`
	// MachineCPU is the cores every process of this host used over the
	// last second (-1 when unknown): with ProcessCPU and Broker.CPU it
	// shows how much other work competed for the machine.
	MachineCPU float64 `json:"machine_cpu_cores"`
	// SchedP99 is how long this process's runnable goroutines waited for
	// a thread over the last second, p99 in ms (-1 when unknown): Go's
	// scheduling latency. High, it means oms-sim's own goroutines queue
	// for a CPU, and a load generator's sends leave late.
	SchedP99 float64  `json:"sched_latency_p99_ms"`
	Roles    []string `json:"roles"`
	// Stages are in pipeline order, each with its work queue; Queues
	// lists every watched queue: the stages' work queues, then the dead
	// letters.
	Stages []StageSnapshot `json:"stages"`
	Queues []QueueSnapshot `json:"queues"`
	// E2E is accept → terminal status over the whole run; E2ERecent
	// over the last 5–10 s.
	E2E       telemetry.Percentiles `json:"e2e"`
	E2ERecent telemetry.Percentiles `json:"e2e_recent"`
	// E2EHistory is the recent p99 (ms), once a second, last minute.
	E2EHistory []float64   `json:"e2e_p99_history_ms"`
	Orders     OrderCounts `json:"orders"`
	// AcceptRate is orders accepted per second over the last second.
	AcceptRate float64 `json:"accept_rate"`
	// TerminalRate is orders reaching a terminal status per second.
	TerminalRate float64  `json:"terminal_rate"`
	API          APIStats `json:"api"`
	// Admission is the API's backpressure: the backlog bound and whether
	// it is shedding now.
	Admission AdmissionStatus `json:"admission"`
	// Events describes the event log: its kind and what it dropped.
	Events EventLogStats `json:"events"`
	// Recent holds the newest orders (without timelines), newest first.
	Recent []OrderRecord `json:"recent"`
	// Errors are the most recent problems (dead letters, publish
	// failures, reconnects), newest first.
	Errors []ErrorEntry `json:"errors"`
	// Changes are recent control changes ("payment workers 2 → 8"),
	// newest first, whoever made them.
	Changes []Change `json:"changes"`
}

// BrokerStatus describes the broker connection.
type BrokerStatus struct {
	Kind       string `json:"kind"` // "rabbitmq" or "embedded"
	URL        string `json:"url"`  // without password
	Note       string `json:"note,omitempty"`
	QueueType  string `json:"queue_type"`
	Connected  bool   `json:"connected"`
	Reconnects int64  `json:"reconnects"`
	LastError  string `json:"last_error,omitempty"`
	// Blocked is set while the broker blocks our publishers
	// (connection.blocked: a memory or disk alarm); BlockedReason says why.
	Blocked       bool   `json:"blocked"`
	BlockedReason string `json:"blocked_reason,omitempty"`
	// CPU is the cores the broker's Erlang VM used over the last second,
	// when it runs on this host (read from /proc); -1 when unknown.
	CPU float64 `json:"cpu_cores"`
	// Nodes is the busiest node's run queue and every alarm, from the
	// management API (RunQueue -1 when it is not polled or not reached).
	Nodes NodeLoad `json:"nodes"`
	// Side is the broker's own view of the pipeline's queues (unacked
	// across every consumer, publish and deliver rates) and of this
	// process's connections (flow control), from the management API.
	Side BrokerSide `json:"management"`
	// BodyBytes, Persistent and Connections are the benchmark knobs:
	// Config.BodyBytes (0: the natural order JSON), !Config.Transient and
	// Config.Connections.
	BodyBytes   int    `json:"body_bytes"`
	Persistent  bool   `json:"persistent"`
	Connections string `json:"connections"`
	// WritesBatched says whether each connection's frames are gathered
	// into fewer write syscalls (amqpbroker.WithWriteBatching, the
	// default; oms-sim --write-batch=false turns it off).
	WritesBatched bool `json:"writes_batched"`
	// Sessions maps each connected session (api, payment, …) to the node
	// it is on (host:port of the --amqp URL that answered): on a cluster,
	// where the process is connected.
	Sessions map[string]string `json:"sessions,omitempty"`
}

// NodesLine summarises Sessions: "localhost:5681 (api, monitor) localhost:5682 (payment)".
func (b BrokerStatus) NodesLine() string {
	by := map[string][]string{}
	for s, n := range b.Sessions {
		by[n] = append(by[n], s)
	}
	nodes := make([]string, 0, len(by))
	for n := range by {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var sb strings.Builder
	for i, n := range nodes {
		sort.Strings(by[n])
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%s (%s)", n, strings.Join(by[n], ", "))
	}
	return sb.String()
}

// StageSnapshot is one stage's live figures.
type StageSnapshot struct {
	Name   string      `json:"name"`
	Config StageConfig `json:"config"`
	// Queue is the stage's work queue (also in Snapshot.Queues).
	Queue  QueueSnapshot `json:"queue"`
	Paused bool          `json:"paused"`
	// Running is the number of worker goroutines consuming now (it lags
	// Config.Workers briefly while a pool resizes, and is 0 when the
	// broker is away).
	Running  int   `json:"running"`
	InFlight int64 `json:"in_flight"`
	// Counts since start.
	Handled     int64 `json:"handled"`     // deliveries finished (any outcome)
	OK          int64 `json:"ok"`          // passed on to the next step
	Failed      int64 `json:"failed"`      // transient errors (each retried or dead-lettered)
	Retried     int64 `json:"retried"`     // sent to a retry queue
	Dead        int64 `json:"dead"`        // dead-lettered
	Redelivered int64 `json:"redelivered"` // duplicates answered from memory or the inbox
	// InboxHits counts the duplicates (part of Redelivered) answered from
	// the shared state's inbox: handled before by this or another
	// process, or before a restart (--state postgres://…).
	InboxHits int64 `json:"inbox_hits"`
	// AckErrors counts acks and nacks the broker connection refused (the
	// delivery is then redelivered).
	AckErrors int64 `json:"ack_errors"`
	// Unrecorded counts deliveries acked before the event log had stored
	// their events (it was unreachable for longer than the bound): a crash
	// then could hide their outcome from the audit.
	Unrecorded int64 `json:"acked_unrecorded"`
	Declined   int64 `json:"declined,omitempty"`
	OutOfStock int64 `json:"out_of_stock,omitempty"`
	Refunds    int64 `json:"refunds,omitempty"`
	// Rate1s and Rate10s are deliveries handled per second.
	Rate1s  float64 `json:"rate_1s"`
	Rate10s float64 `json:"rate_10s"`
	// ArrivalRate is messages arriving in the stage's queue per second
	// (over 5 s): what is offered to the stage, whether or not it keeps
	// up. DeliveryRate is what its workers take per second.
	ArrivalRate  float64 `json:"arrival_rate"`
	DeliveryRate float64 `json:"delivery_rate"`
	// QueueWait is published → delivered; Service is delivered →
	// outgoing publish. Recent variants cover the last 5–10 s.
	QueueWait       telemetry.Percentiles `json:"queue_wait"`
	Service         telemetry.Percentiles `json:"service_time"`
	QueueWaitRecent telemetry.Percentiles `json:"queue_wait_recent"`
	ServiceRecent   telemetry.Percentiles `json:"service_time_recent"`
	// Utilisation is offered load ρ: ArrivalRate × mean service time ÷
	// workers. Above 1 the stage cannot keep up and its queue grows.
	Utilisation float64 `json:"utilisation"`
	// Busy is the share of the workers' time spent working (DeliveryRate
	// × mean service time ÷ workers, at most 1); at 1 with ρ above it,
	// the stage is saturated.
	Busy float64 `json:"busy"`
	// PeakUtilisation is the highest ρ since start (or the run's start).
	PeakUtilisation float64 `json:"peak_utilisation"`
	// Remote is set when this process does not run the stage (--role):
	// other processes do, and its figures come from their events; Running
	// is then its queue's consumers and Config is not theirs.
	Remote bool `json:"remote,omitempty"`
	// Bottleneck marks the stage limiting the pipeline; Reason says why.
	Bottleneck bool   `json:"bottleneck"`
	Reason     string `json:"bottleneck_reason,omitempty"`
	// Predicted is the M/M/c (Erlang C) prediction from ArrivalRate,
	// ServiceRecent's mean and Running, to set beside QueueWaitRecent's
	// mean; nil until a service time has been measured. Little checks
	// Little's law on the measured figures.
	Predicted *Prediction  `json:"predicted,omitempty"`
	Little    *LittleCheck `json:"little,omitempty"`
}

// QueueSnapshot is one queue's depth.
type QueueSnapshot struct {
	// Name is the queue as declared; Queue is its name in DESIGN.md §3
	// terms, without the namespace ("oms.payment", "oms.dead").
	Name      string `json:"name"`
	Queue     string `json:"queue"`
	Ready     int    `json:"ready"`
	Unacked   int    `json:"unacked"` // held by this process's consumers
	Consumers int    `json:"consumers"`
	// PeakReady is the highest Ready seen since start (or reset).
	PeakReady int `json:"peak_ready"`
	// InRate and OutRate are messages per second in and out (10 s).
	InRate  float64 `json:"in_rate"`
	OutRate float64 `json:"out_rate"`
	// History is Ready once a second, the last minute, oldest first.
	History []float64 `json:"history"`
	// Err is set when the depth could not be read.
	Err string `json:"error,omitempty"`
}

// APIStats counts the HTTP API's answers.
type APIStats struct {
	Accepted    int64 `json:"accepted"`
	Rejected    int64 `json:"rejected"`    // 4xx
	Unavailable int64 `json:"unavailable"` // 503: broker away or no confirm in time
	// Shed counts 503s from admission control (backlog above the bound),
	// which never published anything; not part of Unavailable.
	Shed int64 `json:"shed"`
	// Indeterminate counts 503s after the order's message may have
	// reached the broker (part of Unavailable): such an order may run.
	Indeterminate int64 `json:"indeterminate"`
	// Unroutable counts 503s for orders the broker returned: no queue
	// was bound for order.created, nothing was queued (part of
	// Unavailable).
	Unroutable int64                 `json:"unroutable"`
	Publish    telemetry.Percentiles `json:"publish"` // publish → confirm
	// Unauthorized counts 401s of the changing endpoints.
	Unauthorized int64 `json:"unauthorized"`
	// Admin is how the changing endpoints are guarded: AdminToken,
	// AdminLoopback or AdminInsecure.
	Admin string `json:"admin"`
}

// EventLogStats describes the event log. Dropped trace events never cost an
// order, but the trace and audit of a dropped event's order are partial.
type EventLogStats struct {
	Kind       string `json:"kind"` // "stream", "memory" or "off"
	Appended   int64  `json:"appended"`
	Delivered  int64  `json:"delivered"`
	Dropped    int64  `json:"dropped"`
	Pending    int64  `json:"pending"`
	Reconnects int64  `json:"reconnects"`
	Connected  bool   `json:"connected"`
}

// StatsReporter is implemented by event logs that count what they do.
type StatsReporter interface {
	LogStats() EventLogStats
}

// ErrorEntry is one recent problem.
type ErrorEntry struct {
	Time    time.Time `json:"time"`
	Stage   string    `json:"stage,omitempty"`
	OrderID string    `json:"order_id,omitempty"`
	Message string    `json:"message"`
}

// Change is one control change, kept for the dashboard's log.
type Change struct {
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // "api", "dashboard", "scenario", …
	Text   string    `json:"text"`
}

// writesBatched asks the dialer whether it batches writes; dialers that
// cannot say (the embedded broker's) do not.
func writesBatched(d broker.Dialer) bool {
	b, ok := d.(interface{ WritesBatched() bool })
	return ok && b.WritesBatched()
}
