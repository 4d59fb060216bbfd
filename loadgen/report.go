package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
	"oms-sim/loadgen/pace"
	"oms-sim/loadgen/scenario"
)

// ReportVersion is the version of the JSON report schema; it changes only
// when a field changes meaning or goes away. Version 2: a phase's
// achieved rate counts only orders sent during the phase; dropped,
// overdue, shed and retries are new, and failed sends exclude shed ones.
//
// Version 3 adds series (the run over time) and scenario_yaml (the
// scenario as run, for replay and comparison); nothing else changed, so
// version 2 reports are read as they are.
const ReportVersion = 3

// Report is a run's result. Its JSON form is a stable, documented schema
// (see README "Report schema"); durations are in milliseconds as floats.
type Report struct {
	Version     int    `json:"version"`
	Scenario    string `json:"scenario"`
	RunID       string `json:"run_id"`
	Description string `json:"description,omitempty"`
	Seed        uint64 `json:"seed"`
	Driver      string `json:"driver"`
	Broker      Broker `json:"broker"`
	// State is where the domain state lived: "memory", or the shared
	// database ("postgres user@host:port/db schema S", no password).
	State     string    `json:"state,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// DurationMs is the load's wall time; DrainMs the wait after it.
	DurationMs  float64 `json:"duration_ms"`
	DrainMs     float64 `json:"drain_ms"`
	Interrupted bool    `json:"interrupted"`

	Phases []PhaseReport `json:"phases"`
	Stages []StageReport `json:"stages"`
	// E2E is intended send → terminal status (no coordinated omission);
	// Accept is intended send → the API's answer.
	E2E    telemetry.Millis `json:"e2e"`
	Accept telemetry.Millis `json:"accept"`
	// Lateness is intended send → actual send: how well the generator
	// kept its schedule (a send counts late above 10 ms).
	Lateness telemetry.Millis `json:"send_lateness"`

	// Sent = accepted + failed + shed; an arrival was sent, dropped or
	// skipped.
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed_sends"` // not accepted, not shed
	Shed      int64 `json:"shed"`         // answered 503 reason backlog
	LateSends int64 `json:"late_sends"`
	Dropped   int64 `json:"dropped"` // not sent: every in-flight slot was busy
	Overdue   int64 `json:"overdue"` // sent after the end of their phase
	Retries   int64 `json:"retries"` // resends with the same key
	Skipped   int64 `json:"skipped_paused"`
	// FailedActions are the scenario's actions (or their undoing) that
	// the engine refused; any fails the run.
	FailedActions []FailedAction `json:"failed_actions,omitempty"`
	// MaxInFlight is the generator's bound on sends awaiting an answer.
	MaxInFlight int      `json:"max_inflight"`
	SendErrors  []string `json:"send_errors,omitempty"`

	// Limit is what held the run back, with evidence: the generator or
	// API, a stage, the broker, or none.
	Limit *Limit `json:"limit,omitempty"`

	Audit Audit `json:"audit"`
	// Events is the event log's kind and what it dropped: a dropped event
	// never costs an order, but its order's trace and audit are partial.
	Events     engine.EventLogStats `json:"events"`
	Thresholds []ThresholdResult    `json:"thresholds"`
	Passed     bool                 `json:"passed"`

	// Series is the run once a second (coarser past an hour), with its
	// phases and fired actions; absent when turned off (--series=false)
	// and in reports before version 3.
	Series *Series `json:"series,omitempty"`
	// BrokerSide is the broker's own view at the end of the load (the
	// management API): every consumer's unacked messages per queue,
	// publish and deliver rates, connections in flow control; Available
	// false with a Note when it could not be read.
	BrokerSide *engine.BrokerSide `json:"broker_side,omitempty"`
	// ScenarioYAML is the scenario file as run (absent for a scenario
	// built in code); oms-sim replay re-applies it.
	ScenarioYAML string `json:"scenario_yaml,omitempty"`
}

// FailedAction is a scenario action the engine refused while the scenario
// ran, such as a scale beyond the stage's in-flight bound.
type FailedAction struct {
	// AtMs is when it was due, from the start of the load.
	AtMs   float64 `json:"at_ms"`
	Action string  `json:"action"` // what it was to do
	Error  string  `json:"error"`  // why the engine refused it
}

// BrokerOf is what a report says of the broker in b.
func BrokerOf(b engine.BrokerStatus) Broker {
	return Broker{Kind: b.Kind, URL: b.URL, QueueType: b.QueueType, Note: b.Note,
		BodyBytes: b.BodyBytes, Persistent: b.Persistent, Connections: b.Connections, WritesBatched: b.WritesBatched}
}

// stateOf is what a report says of the domain state.
func stateOf(s engine.StateStatus) string {
	if s.URL != "" {
		return s.URL
	}
	return s.Kind
}

// Broker describes the broker a run used.
type Broker struct {
	Kind      string `json:"kind"`
	URL       string `json:"url"`
	QueueType string `json:"queue_type"`
	Note      string `json:"note,omitempty"`
	// BodyBytes is the size every message body was padded to; 0 means
	// the order JSON as it is (about 150 bytes).
	BodyBytes int `json:"body_bytes"`
	// Persistent says whether messages were published with delivery
	// mode 2 (true) or transient, mode 1.
	Persistent bool `json:"persistent"`
	// Connections is the connection layout: per-stage, per-worker or
	// shared.
	Connections string `json:"connections"`
	// WritesBatched says whether each connection's frames were gathered
	// into fewer write syscalls (--write-batch, on by default).
	WritesBatched bool `json:"writes_batched"`
}

// PhaseReport is one phase's offered versus achieved load. Every count is
// of the orders due in this phase, whenever they left.
type PhaseReport struct {
	Name       string  `json:"name"`
	DurationMs float64 `json:"duration_ms"`
	TargetRate float64 `json:"target_rate"` // the schedule's mean rate, orders/s
	Expected   float64 `json:"expected"`    // orders the schedule offered
	Sent       int64   `json:"sent"`
	// SentInPhase left before the phase ended; Overdue after it.
	SentInPhase int64 `json:"sent_in_phase"`
	Overdue     int64 `json:"overdue"`
	Dropped     int64 `json:"dropped"` // not sent: every in-flight slot was busy
	Accepted    int64 `json:"accepted"`
	// AcceptedInPhase are the accepted among SentInPhase.
	AcceptedInPhase int64 `json:"accepted_in_phase"`
	Failed          int64 `json:"failed"`
	Shed            int64 `json:"shed"`
	Retries         int64 `json:"retries"`
	LateSends       int64 `json:"late_sends"`
	Skipped         int64 `json:"skipped_paused"`
	// SentRate is SentInPhase ÷ duration; AchievedRate AcceptedInPhase ÷
	// duration; Ratio AcceptedInPhase ÷ (Expected − Skipped).
	SentRate     float64 `json:"sent_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Ratio        float64 `json:"achieved_ratio"`
	// Limit is what held the phase back (or "none"), judged every second
	// while it ran: the most frequent verdict, with its latest evidence.
	Limit *Limit `json:"limit,omitempty"`
	// Waits sets each loaded stage's predicted queue wait (M/M/c) beside
	// the measured one.
	Waits []StageWait `json:"waits,omitempty"`
}

// StageReport is one stage over the run.
type StageReport struct {
	Name       string  `json:"name"`
	Workers    int     `json:"workers"` // at the end
	Handled    int64   `json:"handled"`
	Throughput float64 `json:"throughput"` // handled ÷ run time, msg/s
	Retried    int64   `json:"retried"`
	Dead       int64   `json:"dead_lettered"`
	PeakQueue  int     `json:"peak_queue"`
	// PeakUtilisation is the highest offered load ρ the stage saw (arrivals
	// × mean service ÷ workers, over 5 s): above 1 it could not keep up.
	PeakUtilisation float64          `json:"peak_utilisation"`
	QueueWait       telemetry.Millis `json:"queue_wait"`
	Service         telemetry.Millis `json:"service_time"`
	// AckErrors counts acks and nacks the broker connection refused (the
	// deliveries were redelivered and answered from the stage's memory of
	// handled messages, or from the inbox with --state postgres).
	AckErrors int64 `json:"ack_errors,omitempty"`
	// InboxHits counts redeliveries the shared state's inbox answered
	// (--state postgres://…): handled before, not done again.
	InboxHits int64 `json:"inbox_hits,omitempty"`
}

// ThresholdResult is one threshold's verdict.
type ThresholdResult struct {
	Threshold string  `json:"threshold"` // e.g. "e2e_p99 ≤ 500ms"
	Metric    string  `json:"metric"`
	Observed  float64 `json:"observed"` // ms for latencies
	Display   string  `json:"observed_display"`
	Pass      bool    `json:"pass"`
}

// MarshalJSON writes an unmeasured (NaN) observation as null:
// encoding/json refuses NaN, which would lose the whole report.
func (t ThresholdResult) MarshalJSON() ([]byte, error) {
	type plain ThresholdResult
	if !math.IsNaN(t.Observed) && !math.IsInf(t.Observed, 0) {
		return json.Marshal(plain(t))
	}
	return json.Marshal(struct {
		plain
		Observed *float64 `json:"observed"`
	}{plain: plain(t)})
}

func (r *Runner) buildReport(start time.Time, load, drain time.Duration, interrupted bool) *Report {
	s := r.cfg.Scenario
	snap := r.cfg.Engine.Snapshot()
	rep := &Report{
		Version: ReportVersion, Scenario: s.Name, RunID: r.cfg.RunID, Description: s.Description, Seed: s.Seed,
		Driver:    r.cfg.Driver.Name(),
		Broker:    BrokerOf(r.cfg.Broker),
		State:     stateOf(snap.State),
		StartedAt: start.UTC(), DurationMs: ms(load), DrainMs: ms(drain), Interrupted: interrupted,
		MaxInFlight: r.cfg.MaxInFlight,
		Audit:       r.track.audit(),
	}
	rep.Audit.Ledger.Database = r.databaseLedger(start)
	tot := r.book.totals()
	rep.Sent, rep.Failed, rep.Shed, rep.LateSends = tot.Sent, tot.Failed, tot.Shed, tot.Late
	rep.Dropped, rep.Overdue, rep.Retries, rep.Skipped = tot.Dropped, tot.overdue(), tot.Retries, tot.Skipped
	r.mu.Lock()
	for i, c := range r.book.perPhase() {
		pr := phaseReport(r.phases, i, c)
		if i < len(r.limits) {
			pr.Limit = r.limits[i].verdict()
		}
		if i < len(r.waits) {
			pr.Waits = r.waits[i].result()
		}
		rep.Phases = append(rep.Phases, pr)
	}
	rep.Limit = runLimit(rep.Phases)
	rep.SendErrors = append([]string(nil), r.errs...)
	rep.FailedActions = append([]FailedAction(nil), r.failed...)
	rep.Accept = telemetry.Summarize(r.accept).Millis()
	rep.Lateness = telemetry.Summarize(r.lateHist).Millis()
	r.mu.Unlock()
	r.track.mu.Lock()
	rep.E2E = telemetry.Summarize(r.track.e2e).Millis()
	r.track.mu.Unlock()
	for _, st := range snap.Stages {
		sr := StageReport{
			Name: st.Name, Workers: st.Config.Workers, Handled: st.Handled, Retried: st.Retried, Dead: st.Dead,
			PeakUtilisation: st.PeakUtilisation, QueueWait: st.QueueWait.Millis(), Service: st.Service.Millis(),
			PeakQueue: st.Queue.PeakReady, AckErrors: st.AckErrors, InboxHits: st.InboxHits,
		}
		if total := load + drain; total > 0 {
			sr.Throughput = float64(st.Handled) / total.Seconds()
		}
		rep.Stages = append(rep.Stages, sr)
	}
	rep.Events = snap.Events
	rep.BrokerSide = r.brokerSide
	if r.series != nil {
		rep.Series = r.series.series()
	}
	if _, src := s.Source(); src != nil {
		rep.ScenarioYAML = string(src)
	}
	// An interrupted run did not run its scenario: it fails, whatever
	// its figures so far say.
	// So did one whose actions the engine refused.
	rep.Passed = rep.Audit.Lost == 0 && !interrupted && len(rep.FailedActions) == 0
	for _, t := range s.Thresholds {
		v, display := rep.metric(t.Metric)
		obs := v
		if k, _ := scenario.MetricKindOf(t.Metric); k == scenario.MetricLatency {
			obs = v * float64(time.Millisecond) // Check takes nanoseconds
		}
		tr := ThresholdResult{Threshold: t.String(), Metric: t.Metric, Observed: v, Display: display, Pass: t.Check(obs)}
		rep.Passed = rep.Passed && tr.Pass
		rep.Thresholds = append(rep.Thresholds, tr)
	}
	return rep
}

// runLimit is what limited the run: the limit of the most demanding phase
// that had one (the highest target rate), else none.
func runLimit(phases []PhaseReport) *Limit {
	var best *PhaseReport
	for i := range phases {
		p := &phases[i]
		if p.Limit == nil || p.Limit.Kind == LimitNone {
			continue
		}
		if best == nil || p.TargetRate > best.TargetRate {
			best = p
		}
	}
	if best == nil {
		return &Limit{Kind: LimitNone, Evidence: "no phase was held back"}
	}
	l := *best.Limit
	l.Evidence = "in phase " + best.Name + ": " + l.Evidence
	return &l
}

// phaseReport turns phase i's counts into its report.
func phaseReport(p *pace.Phases, i int, c counts) PhaseReport {
	ph := p.Phase(i)
	d := ph.Duration
	pr := PhaseReport{
		Name: ph.Name, DurationMs: ms(d), Expected: p.Expected(i),
		Sent: c.Sent, SentInPhase: c.SentInPhase, Overdue: c.overdue(), Dropped: c.Dropped,
		Accepted: c.Accepted, AcceptedInPhase: c.AcceptedInPhase, Failed: c.Failed, Shed: c.Shed,
		Retries: c.Retries, LateSends: c.Late, Skipped: c.Skipped,
	}
	if d > 0 {
		pr.TargetRate = pr.Expected / d.Seconds()
		pr.SentRate = float64(c.SentInPhase) / d.Seconds()
		pr.AchievedRate = float64(c.AcceptedInPhase) / d.Seconds()
	}
	if want := pr.Expected - float64(c.Skipped); want > 0 {
		pr.Ratio = float64(c.AcceptedInPhase) / want
	}
	return pr
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// metric returns a threshold metric's value (ms for latencies) and how to
// show it. An unmeasured metric is NaN, which fails its threshold.
func (rep *Report) metric(name string) (float64, string) {
	pick := func(l telemetry.Millis, stat string) float64 {
		if l.Count == 0 {
			return math.NaN()
		}
		switch stat {
		case "p50":
			return l.P50
		case "p90":
			return l.P90
		case "p99":
			return l.P99
		case "p999":
			return l.P999
		case "max":
			return l.Max
		}
		return math.NaN()
	}
	showMs := func(v float64) (float64, string) {
		if math.IsNaN(v) {
			return v, "not measured"
		}
		return v, FormatMs(v)
	}
	num := func(v float64) (float64, string) { return v, strings.TrimSuffix(fmt.Sprintf("%.4g", v), ".0") }
	a := rep.Audit
	switch name {
	case scenario.MetricErrorRate:
		if a.Accepted == 0 {
			return math.NaN(), "not measured"
		}
		return num(float64(a.PaymentFailed+a.Refunded+a.DeadLettered+a.Lost) / float64(a.Accepted))
	case scenario.MetricLostOrders:
		return num(float64(a.Lost))
	case scenario.MetricDuplicatedOrders:
		return num(float64(a.Duplicated))
	case scenario.MetricDoubleCharges:
		return num(float64(a.Ledger.DoubleChargesSeen()))
	case scenario.MetricDeadLettered:
		return num(float64(a.DeadLettered))
	case scenario.MetricLateSends:
		return num(float64(rep.LateSends))
	case scenario.MetricAchievedRateRatio:
		var want, got float64
		for _, p := range rep.Phases {
			want += p.Expected - float64(p.Skipped)
			got += float64(p.AcceptedInPhase)
		}
		if want <= 0 {
			return math.NaN(), "not measured"
		}
		return num(got / want)
	}
	if stat, ok := strings.CutPrefix(name, "e2e_"); ok {
		return showMs(pick(rep.E2E, stat))
	}
	for _, st := range rep.Stages {
		if rest, ok := strings.CutPrefix(name, st.Name+"_"); ok {
			if stat, ok := strings.CutPrefix(rest, "queue_wait_"); ok {
				return showMs(pick(st.QueueWait, stat))
			}
			if stat, ok := strings.CutPrefix(rest, "service_time_"); ok {
				return showMs(pick(st.Service, stat))
			}
		}
	}
	return math.NaN(), "unknown metric"
}

// FormatMs shows a duration given in milliseconds with a unit that suits
// it: 1.25s, 42ms, 3.1ms, 250µs.
func FormatMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0fms", v)
	case v >= 1:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fµs", v*1000)
}

// WriteFile writes the report as .json, .md, .txt or .html by the file's
// extension.
func (rep *Report) WriteFile(path string) error {
	return WriteReport(path, rep, Forms{Markdown: rep.Markdown, Text: rep.Text, HTML: rep.HTML})
}

// Forms are the renderings of a report besides its JSON; a nil one is a
// format that report does not have.
type Forms struct {
	Markdown, Text func() string
	HTML           func() (string, error)
}

// WriteReport writes a report to path by the file's extension: .json (v
// encoded), .md, .txt or .html (from f); every report oms-sim writes goes
// through it.
func WriteReport(path string, v any, f Forms) error {
	var data []byte
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode report %s: %w", path, err)
		}
		data = append(b, '\n')
	case ext == ".md" && f.Markdown != nil:
		data = []byte(f.Markdown())
	case ext == ".txt" && f.Text != nil:
		data = []byte(f.Text())
	case ext == ".html" && f.HTML != nil:
		page, err := f.HTML()
		if err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
		data = []byte(page)
	default:
		return fmt.Errorf("report %s: unknown format %q: use %s", path, filepath.Ext(path), formatList(f.HTML != nil))
	}
	return os.WriteFile(path, data, 0o644)
}

// CheckReportPath validates a --report path before a run starts; html
// says whether the report has an HTML form.
func CheckReportPath(path string, html bool) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".md", ".txt":
		return nil
	case ".html":
		if html {
			return nil
		}
	}
	return fmt.Errorf("--report %s: unknown format %q: use %s", path, filepath.Ext(path), formatList(html))
}

// CheckReportPaths validates repeated --report paths: each a known
// format, one file per format.
func CheckReportPaths(paths []string, html bool) error {
	var errs []error
	seen := map[string]string{}
	for _, p := range paths {
		if err := CheckReportPath(p, html); err != nil {
			errs = append(errs, err)
			continue
		}
		ext := strings.ToLower(filepath.Ext(p))
		if first, ok := seen[ext]; ok {
			errs = append(errs, fmt.Errorf("--report %s: %s already writes the %s report (one file per format)", p, first, ext))
		}
		seen[ext] = p
	}
	return errors.Join(errs...)
}

func formatList(html bool) string {
	if html {
		return ".json, .md, .txt or .html"
	}
	return ".json, .md or .txt"
}
