package loadgen

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"oms-sim/engine"
)

// Limit kinds: what held a run back.
const (
	LimitNone      = "none"      // the system kept up with what was offered
	LimitGenerator = "generator" // oms-sim's own load generator or API could not send what was offered
	LimitStage     = "stage"     // a stage could not take what arrived (ρ ≥ 1, its queue growing)
	LimitBroker    = "broker"    // the broker: slow confirms with idle stages, or flow control
)

// Limit says what limited a run or a phase, and the evidence for it.
type Limit struct {
	Kind     string `json:"kind"`
	Stage    string `json:"stage,omitempty"`
	Evidence string `json:"evidence"`
	// Brief is the evidence in a few words, for a progress line.
	Brief string `json:"brief,omitempty"`
}

// String renders the limit as "broker: confirms p99 …".
func (l Limit) String() string {
	if l.Kind == "" {
		return ""
	}
	return l.what() + ": " + l.Evidence
}

// what names the limit: "broker", "stage payment".
func (l Limit) what() string {
	if l.Stage != "" {
		return l.Kind + " " + l.Stage
	}
	return l.Kind
}

// Thresholds of the attribution.
const (
	// slowConfirm is a publish-confirm p99 that means the broker is
	// behind: confirms take 1–5 ms on an idle broker.
	slowConfirm = 50 * time.Millisecond
	// spareRho: a stage below it has workers to spare.
	spareRho = 0.9
	// keepUp is the share of the offered load that counts as sent.
	keepUp = 0.98
	// selfQueue is a p99 of Go's scheduling latency at which oms-sim's
	// own goroutines queue for a CPU: the pacer's sends leave late by
	// it, and every latency oms-sim times — publish confirms included —
	// carries it (the lateness threshold's 10 ms).
	selfQueue = 10.0 // ms
)

// window is the generator's side of the last second.
type window struct {
	offered, sent, dropped, late float64 // per second
	// answerP99 is how long accepted sends took, send → answer (p99,
	// last 5–10 s): driver, API and broker confirm together.
	answerP99 time.Duration
}

// judge decides what limits the system now, from the generator's last
// second and the engine's snapshot. In order: a stage that cannot keep up,
// the broker's flow control, then — when the generator falls behind —
// the broker (confirms slow while the stages idle) or the generator and
// API themselves (confirms quick: the broker keeps up, oms-sim does not).
func judge(w window, s engine.Snapshot) Limit {
	maxRho, busiest := 0.0, ""
	for _, st := range s.Stages {
		if st.Utilisation > maxRho {
			maxRho, busiest = st.Utilisation, st.Name
		}
	}
	for _, st := range s.Stages {
		if st.Bottleneck && (st.Utilisation >= 1 || st.Paused || strings.HasPrefix(st.Reason, "stopped") || strings.HasPrefix(st.Reason, "no consumers")) {
			return Limit{Kind: LimitStage, Stage: st.Name, Evidence: st.Reason, Brief: fmt.Sprintf("ρ %.0f%%", st.Utilisation*100)}
		}
	}
	if !s.Broker.Connected && s.Broker.Kind != "" {
		why := "the broker connection is down; reconnecting"
		if s.Broker.LastError != "" {
			why += " (" + s.Broker.LastError + ")"
		}
		return Limit{Kind: LimitBroker, Evidence: why, Brief: "disconnected"}
	}
	if a := s.Broker.Nodes.Alarms; len(a) > 0 {
		return Limit{Kind: LimitBroker, Evidence: "resource alarm on the broker (" + strings.Join(a, ", ") + "): publishers are blocked", Brief: "alarm: " + a[0]}
	}
	if s.Broker.Blocked {
		return Limit{Kind: LimitBroker, Evidence: "the broker blocks our publishers (connection.blocked: " + s.Broker.BlockedReason + ")", Brief: "connection.blocked"}
	}
	confirm := s.API.Publish.P99
	cpu := cpuEvidence(s)
	// Slow confirms timed by a process whose goroutines queue for a CPU
	// are no evidence against the broker, unless the broker shows its own
	// load: its run queue at least its schedulers (the management API).
	selfBusy := s.SchedP99 >= selfQueue
	brokerBusy := s.Broker.Nodes.Schedulers > 0 && s.Broker.Nodes.RunQueue >= s.Broker.Nodes.Schedulers
	short := w.offered > 0 && (w.sent < keepUp*w.offered || w.dropped > 0 || w.late > (1-keepUp)*w.sent)
	switch {
	case s.Admission.Shedding && maxRho >= spareRho:
		return Limit{Kind: LimitStage, Stage: busiest, Evidence: fmt.Sprintf("the API sheds (backlog %d > %d); %s ρ %.0f%%", s.Admission.Backlog, s.Admission.MaxBacklog, busiest, maxRho*100),
			Brief: fmt.Sprintf("ρ %.0f%%, shedding", maxRho*100)}
	case s.Admission.Shedding:
		return Limit{Kind: LimitBroker, Evidence: fmt.Sprintf("the API sheds (backlog %d > %d) while every stage has spare workers (ρ ≤ %.0f%%): consumers get messages slower than they could take them; %s", s.Admission.Backlog, s.Admission.MaxBacklog, maxRho*100, cpu),
			Brief: "shedding, stages idle"}
	case !short:
		return Limit{Kind: LimitNone, Evidence: fmt.Sprintf("sent %.0f/s of %.0f/s offered; every stage below ρ %.0f%%; confirms p99 %v", w.sent, w.offered, spareRho*100, confirm.Round(100*time.Microsecond))}
	case w.answerP99 > 4*confirm && w.answerP99 >= 20*time.Millisecond:
		// Most of a send's time is spent before the broker is involved.
	case confirm >= slowConfirm && maxRho < spareRho && (!selfBusy || brokerBusy):
		return Limit{Kind: LimitBroker, Evidence: fmt.Sprintf("sent %.0f/s of %.0f/s offered; publish confirms p99 %v while every stage has spare workers (ρ ≤ %.0f%%); %s", w.sent, w.offered, confirm.Round(time.Millisecond), maxRho*100, cpu),
			Brief: fmt.Sprintf("confirms p99 %v", confirm.Round(time.Millisecond))}
	}
	why := fmt.Sprintf("sent %.0f/s of %.0f/s offered", w.sent, w.offered)
	if w.dropped > 0 {
		why += fmt.Sprintf(", dropped %.0f/s (every in-flight slot busy)", w.dropped)
	}
	if w.late > 0 {
		why += fmt.Sprintf(", %.0f/s sent late", w.late)
	}
	if selfBusy {
		return Limit{Kind: LimitGenerator, Evidence: fmt.Sprintf("%s; oms-sim's own goroutines queue for a CPU (p99 %s), so its sends leave late and the confirms it times (p99 %v) carry that wait; stages ρ ≤ %.0f%%: oms-sim's generator and API are behind, not the broker; %s",
			why, schedText(s.SchedP99), confirm.Round(time.Millisecond), maxRho*100, cpu),
			Brief: fmt.Sprintf("oms-sim queues %s", schedText(s.SchedP99))}
	}
	return Limit{Kind: LimitGenerator, Evidence: fmt.Sprintf("%s; sends take p99 %v of which the broker's confirm p99 %v, stages ρ ≤ %.0f%%: the broker and the stages keep up, oms-sim's generator and API do not; %s",
		why, w.answerP99.Round(100*time.Microsecond), confirm.Round(100*time.Microsecond), maxRho*100, cpu),
		Brief: fmt.Sprintf("sent %.0f of %.0f/s", w.sent, w.offered)}
}

// cpuEvidence says how busy the broker and this process are, as far as
// is known.
func cpuEvidence(s engine.Snapshot) string {
	n := runtime.NumCPU()
	parts := []string{}
	if s.ProcessCPU >= 0 {
		parts = append(parts, fmt.Sprintf("oms-sim %.2f cores", s.ProcessCPU))
	}
	nodes := s.Broker.Nodes
	switch {
	case s.Broker.CPU >= 0:
		parts = append(parts, fmt.Sprintf("broker %.2f cores", s.Broker.CPU))
	case nodes.RunQueue >= 0:
		parts = append(parts, fmt.Sprintf("broker run queue %d on %d schedulers (management API)", nodes.RunQueue, nodes.Schedulers))
	case s.Broker.Kind != "embedded":
		parts = append(parts, "broker CPU unknown (not on this host, no management API)")
	}
	if s.MachineCPU >= 0 && s.ProcessCPU >= 0 {
		others := s.MachineCPU - s.ProcessCPU - max(s.Broker.CPU, 0)
		parts = append(parts, fmt.Sprintf("others %.2f", max(others, 0)))
	}
	ev := strings.Join(parts, ", ") + fmt.Sprintf(" of %d", n)
	if s.SchedP99 >= 0 {
		// Go's own queue: runnable goroutines (the pacer's among them)
		// waiting for a thread; sends leave late by about this much.
		ev += fmt.Sprintf("; oms-sim's goroutines waited p99 %s for a CPU", schedText(s.SchedP99))
	}
	return ev
}

// limitTally counts the verdicts of one phase, second by second.
type limitTally struct {
	n    map[limitKey]int
	last map[limitKey]Limit // the latest of each, with its evidence
}

type limitKey struct{ kind, stage string }

func (t *limitTally) add(l Limit) {
	if t.n == nil {
		t.n, t.last = map[limitKey]int{}, map[limitKey]Limit{}
	}
	k := limitKey{l.Kind, l.Stage}
	t.n[k]++
	t.last[k] = l
}

// verdict is the phase's limit: the most frequent verdict, a limit
// winning a tie against none. Nil when no second was judged.
func (t *limitTally) verdict() *Limit {
	var best limitKey
	bestN := 0
	for k, n := range t.n {
		if n > bestN || (n == bestN && best.kind == LimitNone && k.kind != LimitNone) ||
			(n == bestN && k.kind+k.stage < best.kind+best.stage && (k.kind == LimitNone) == (best.kind == LimitNone)) {
			best, bestN = k, n
		}
	}
	if bestN == 0 {
		return nil
	}
	l := t.last[best]
	l.Evidence = fmt.Sprintf("%s (%d of %d seconds)", l.Evidence, bestN, t.total())
	return &l
}

func (t *limitTally) total() int {
	n := 0
	for _, v := range t.n {
		n += v
	}
	return n
}

// schedText renders a scheduling latency in ms: "0.2ms", "12ms".
func schedText(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}
