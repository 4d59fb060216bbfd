package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/google/uuid"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
	"oms-sim/loadgen/pace"
	"oms-sim/loadgen/scenario"
)

// Engine is what a run needs of the order system: steering, figures, and
// its lifecycle events for the audit.
type Engine interface {
	engine.Control
	Snapshot() engine.Snapshot
	StageConfig(name string) (engine.StageConfig, bool)
	Subscribe(fn func(engine.Event)) (cancel func())
	// MaxBacklog is the API's admission bound now (0: off), for a backlog
	// action to restore.
	MaxBacklog() int
	// Emit appends a run's own events (start, arrivals, end) to the log.
	Emit(ev engine.Event)
	ResetStats()
}

// Arrival is one recorded send: when it was due from the run's start and
// what it sent. Replays re-drive a run's arrivals.
type Arrival struct {
	At  time.Duration
	Req engine.OrderRequest
}

// Defaults.
const (
	DefaultDrainTimeout  = 60 * time.Second
	DefaultProgressEvery = time.Second
	// DefaultMaxInFlight bounds concurrent sends (the --max-inflight
	// flag's default). The offered rate never drops because the system is
	// slow: the pool of senders grows up to this bound; an arrival that
	// finds it full is counted dropped and not sent, so the schedule is
	// never delayed.
	DefaultMaxInFlight = 20000
	// sendTimeout bounds one send; an order not accepted by then failed.
	sendTimeout = 30 * time.Second
)

// Config configures a Runner.
type Config struct {
	// Scenario to run; nil for manual load only (SetManualRate).
	Scenario *scenario.Scenario
	Engine   Engine
	Driver   Driver
	// Broker describes the broker for the report.
	Broker engine.BrokerStatus
	// DrainTimeout bounds the wait for terminal statuses after the load.
	DrainTimeout time.Duration
	// Progress receives a line about every ProgressEvery (headless); nil
	// prints nothing.
	Progress      io.Writer
	ProgressEvery time.Duration
	// MaxInFlight bounds the sends awaiting an answer (retries included);
	// an arrival beyond it is dropped. Default DefaultMaxInFlight.
	MaxInFlight int
	// RunID names the run in the event log (default: a new UUIDv7).
	RunID string
	// Record writes every arrival to the event log, so the run can be
	// replayed (worth it only when the log outlives the process).
	Record bool
	// Replay, when set, is sent instead of the scenario's schedule (the
	// scenario still names the run and sets thresholds).
	Replay []Arrival
	// LateThreshold is how late a send may leave before it counts late.
	LateThreshold time.Duration
	// NoSeries turns off the per-second time series (Report.Series).
	NoSeries bool
	Logger   *slog.Logger
}

// Runner runs a scenario (or manual load) against an engine. It
// implements Controller for the dashboard.
type Runner struct {
	cfg      Config
	phases   *pace.Phases // nil without scenario
	mix      *mix
	track    *tracker
	accept   *hdrhistogram.Histogram // µs, intended send → accepted
	lateHist *hdrhistogram.Histogram // µs, intended send → actual send
	sem      chan struct{}

	mu        sync.Mutex
	state     string
	start     time.Time
	paused    bool // by the dashboard
	pauseTill time.Duration
	report    *Report
	errs      []string // first send errors, for the report
	failed    []FailedAction
	manual    float64
	manualSet chan struct{}

	book     *book
	retry    retryPolicy
	inflight atomic.Int64
	// acceptedRate and sentRate turn the book's totals into rates for
	// progress lines.
	acceptedRate, sentRate telemetry.Rate
	droppedRate, lateRate  telemetry.Rate
	// limit is the latest verdict on what holds the load back; limits
	// tally each phase's verdicts (guarded by mu).
	limit  Limit
	limits []limitTally
	waits  []waitTally // predicted against measured queue wait, by phase
	// answer is send → accepted of first attempts over the last 5–10 s:
	// the time an order spends in the driver, the API and the broker.
	answer *telemetry.Latency
	// series records the run once a second (nil: off, or manual load);
	// lateMax is the latest send's lateness since its last sample
	// (guarded by mu).
	series  *seriesRecorder
	lateMax time.Duration
	// brokerSide is the management API's view as the load ended (before
	// the drain empties the queues).
	brokerSide *engine.BrokerSide
}

// New checks cfg and builds a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Engine == nil || cfg.Driver == nil {
		return nil, errors.New("loadgen: engine and driver are required")
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = DefaultProgressEvery
	}
	if cfg.MaxInFlight < 0 {
		return nil, fmt.Errorf("loadgen: max in-flight must be 1 or more (0: the default %d), got %d", DefaultMaxInFlight, cfg.MaxInFlight)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.LateThreshold == 0 {
		cfg.LateThreshold = pace.DefaultLateThreshold
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RunID == "" {
		cfg.RunID = uuid.Must(uuid.NewV7()).String()
	}
	r := &Runner{
		cfg:       cfg,
		track:     newTracker(),
		answer:    telemetry.NewLatency(),
		accept:    telemetry.NewHistogram(),
		lateHist:  telemetry.NewHistogram(),
		sem:       make(chan struct{}, cfg.MaxInFlight),
		state:     StateIdle,
		manualSet: make(chan struct{}, 1),
	}
	if s := cfg.Scenario; s != nil {
		p, err := pace.FromScenario(s)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		r.phases = p
		r.mix = newMix(s)
		r.retry = retryPolicyOf(s)
	} else {
		r.mix = newMix(&scenario.Scenario{Seed: 1, Catalog: scenario.Catalog{Products: engine.DefaultProducts},
			Orders: scenario.Orders{Quantity: scenario.IntRange{Min: 1, Max: 3}, Users: scenario.DefaultUsers}})
	}
	r.book = newBook(r.phases)
	if r.phases != nil {
		r.limits = make([]limitTally, r.phases.Len())
		r.waits = make([]waitTally, r.phases.Len())
	}
	return r, nil
}

// Run replays the scenario: phases in order, actions at their times, then
// the drain and the audit. It returns the report; ctx cancellation stops
// the load early (the report says so) but still drains and audits.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	s := r.cfg.Scenario
	if s == nil {
		return nil, errors.New("loadgen: Run needs a scenario; use RunManual")
	}
	unsub := r.cfg.Engine.Subscribe(r.track.onEvent)
	defer unsub()
	r.cfg.Engine.ResetStats()
	r.cfg.Engine.Note("scenario", fmt.Sprintf("scenario %s started (%v), run %s", s.Name, s.TotalDuration(), r.cfg.RunID))

	start := time.Now()
	r.cfg.Engine.Emit(engine.Event{RunID: r.cfg.RunID, Type: engine.EventRunStarted, Time: start, Detail: s.Name})
	if file, src := s.Source(); r.cfg.Record && src != nil {
		rec, _ := json.Marshal(r.recordScenario(file, src))
		r.cfg.Engine.Emit(engine.Event{RunID: r.cfg.RunID, Type: engine.EventRunScenario, Time: start, Detail: string(rec)})
	}
	if !r.cfg.NoSeries {
		r.series = newSeriesRecorder(r.stageNames(), phaseSpans(r.phases))
	}
	r.mu.Lock()
	r.start, r.state = start, StateRunning
	r.mu.Unlock()

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.runActions(loadCtx, start)
	}()
	go func() {
		defer wg.Done()
		r.progressLoop(loadCtx)
	}()
	var sends sync.WaitGroup
	interrupted := r.send(ctx, ctx, &sends, start, r.schedule())
	sends.Wait()
	stopLoad()
	wg.Wait()
	loadDur := time.Since(start)
	side := r.cfg.Engine.Snapshot().Broker.Side
	r.brokerSide = &side

	r.mu.Lock()
	r.state = StateDraining
	r.mu.Unlock()
	drainStart := time.Now()
	r.drain(ctx)
	rep := r.buildReport(start, loadDur, time.Since(drainStart), interrupted)
	r.mu.Lock()
	r.report, r.state = rep, StateDone
	r.mu.Unlock()
	r.cfg.Engine.Note("scenario", fmt.Sprintf("scenario %s done: %s", s.Name, passWord(rep.Passed)))
	summary, _ := json.Marshal(rep.Audit)
	r.cfg.Engine.Emit(engine.Event{RunID: r.cfg.RunID, Type: engine.EventRunFinished, Detail: string(summary)})
	return rep, nil
}

func passWord(ok bool) string {
	if ok {
		return "PASSED"
	}
	return "FAILED"
}

// RunID returns the run's id in the event log.
func (r *Runner) RunID() string { return r.cfg.RunID }

// pausedAt reports whether an intended send falls in a pause: a pause
// action's window or a pause from the dashboard.
func (r *Runner) pausedAt(at time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused || at < r.pauseTill
}

// drain waits until every tracked order has a terminal status, or the
// drain timeout passes, or ctx is cancelled twice over (the caller's
// business: a cancelled ctx still drains, bounded by the timeout).
func (r *Runner) drain(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.DrainTimeout)
	for r.track.open() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Give late duplicates a moment to show up in the audit.
	if r.track.open() == 0 {
		time.Sleep(200 * time.Millisecond)
	}
}

// progressLoop prints headless progress lines until ctx ends.
func (r *Runner) progressLoop(ctx context.Context) {
	// The judge and the series sample once a second whatever the print
	// interval; half a tick of slack keeps a tick that arrives a hair
	// early from pushing a sample to the next tick (1.25 s).
	tick := min(r.cfg.ProgressEvery, time.Second) / 4
	t := time.NewTicker(tick)
	defer t.Stop()
	lastPrint, lastJudge := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c := r.book.totals()
			r.acceptedRate.Add(now, c.Accepted)
			r.sentRate.Add(now, c.Sent)
			r.droppedRate.Add(now, c.Dropped)
			r.lateRate.Add(now, c.Late)
			judgeNow := now.Sub(lastJudge) >= time.Second-tick/2
			printNow := r.cfg.Progress != nil && now.Sub(lastPrint) >= r.cfg.ProgressEvery-tick/2
			if !judgeNow && !printNow {
				continue
			}
			snap, p := r.cfg.Engine.Snapshot(), r.Progress()
			if judgeNow {
				lastJudge = now
				if l, ok := r.judge(p, snap); ok {
					p.Limit = l
				}
				r.sampleSeries(now, c, snap)
			}
			if printNow {
				lastPrint = now
				fmt.Fprintln(r.cfg.Progress, ProgressLine(p, snap))
			}
		}
	}
}

// sampleSeries adds a point to the run's series from the totals c and
// the snapshot snap taken at now.
func (r *Runner) sampleSeries(now time.Time, c counts, snap engine.Snapshot) {
	if r.series == nil {
		return
	}
	r.mu.Lock()
	start, lateMax := r.start, r.lateMax
	r.lateMax = 0
	r.mu.Unlock()
	t := now.Sub(start)
	o := snap.Orders
	tot := seriesTotals{offered: r.phases.Hits(min(t, r.phases.Duration())), sent: c.Sent, accepted: c.Accepted,
		completed: o.Confirmed + o.PaymentFailed + o.Refunded + o.DeadLettered, shed: c.Shed}
	r.series.sample(t, tot, lateMax, r.inflight.Load(), snap)
}

// stageNames are the engine's stages, in the snapshot's order.
func (r *Runner) stageNames() []string {
	var names []string
	for _, st := range r.cfg.Engine.Snapshot().Stages {
		names = append(names, st.Name)
	}
	return names
}

// phaseSpans places the schedule's phases in seconds from the start.
func phaseSpans(p *pace.Phases) []PhaseSpan {
	spans := []PhaseSpan{}
	for i := range p.Len() {
		s := p.Start(i)
		spans = append(spans, PhaseSpan{Name: p.Phase(i).Name, Start: s.Seconds(), End: (s + p.Phase(i).Duration).Seconds()})
	}
	return spans
}

// judge decides what limits the load now, from the progress p and the
// snapshot taken with it, and tallies it for the phase; false when no load
// runs to judge.
func (r *Runner) judge(p Progress, snap engine.Snapshot) (Limit, bool) {
	if p.State != StateRunning || p.Paused || p.TargetRate <= 0 {
		return Limit{}, false
	}
	w := window{offered: p.TargetRate, sent: r.sentRate.Per(time.Second),
		dropped: r.droppedRate.Per(time.Second), late: r.lateRate.Per(time.Second), answerP99: r.answer.Recent().P99}
	l := judge(w, snap)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limit = l
	if !p.Manual && p.PhaseIndex < len(r.limits) {
		r.limits[p.PhaseIndex].add(l)
	}
	if !p.Manual && p.PhaseIndex < len(r.waits) {
		r.waits[p.PhaseIndex].add(snap)
	}
	return l, true
}
