// Package tui is the Bubble Tea dashboard: it polls the engine's snapshot
// and the load generator's progress on a tick, draws the broker, queues,
// stages, end-to-end latency, an order-by-order trace and recent errors,
// and steers the engine and the load through narrow control interfaces.
// Update never does I/O: every read and every control call runs in a
// tea.Cmd.
package tui

import (
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

// screen is what the body shows.
type screen int

const (
	screenMain screen = iota
	screenTimeline
	screenHelp
	screenReport
	screenWhy
)

// panel is a focusable panel of the main screen.
type panel int

const (
	focusStages panel = iota
	focusTrace
	focusActivity
	panelCount
)

// flashFor is how long a status-line message stays.
const flashFor = 5 * time.Second

// flash is the transient status-line message.
type flash struct {
	text string
	err  bool
	at   time.Time
}

// Model is the dashboard's root model. Build it with New and run it with
// Run (or any tea.Program).
type Model struct {
	src  Source
	ctl  engine.Control
	load loadgen.Controller
	opts Options
	st   *Styles
	keys *KeyMap

	width, height int
	screen        screen
	prevScreen    screen
	focus         panel
	plan          mainPlan

	header   header
	queues   queuesPanel
	stages   stagesPanel
	e2e      e2ePanel
	trace    tracePanel
	timeline timelineView
	activity activityPanel
	help     helpView
	report   reportView
	why      whyView
	prompt   prompt

	snap    engine.Snapshot
	hasSnap bool
	prog    *loadgen.Progress

	// seq numbers polls; applied is the newest applied; polls issued at
	// or before staleBefore predate a control change and are dropped so
	// an old figure never flickers back.
	seq, applied, staleBefore uint64

	flash      flash
	outage     *outage
	outageGen  uint64
	slowed     map[string]engine.Dist
	manualRate float64
	lastChange time.Time
	reportSeen bool
}

// New builds the dashboard. ctl may be nil (read-only) and load may be nil
// (no load generator: its keys are hidden).
func New(src Source, ctl engine.Control, load loadgen.Controller, opts Options) Model {
	opts.setDefaults()
	st := DefaultStyles(opts.NoColor)
	km := DefaultKeyMap()
	m := Model{
		src: src, ctl: ctl, load: load, opts: opts, st: &st, keys: &km,
		header:   newHeader(&st, opts.ScenarioName, load != nil),
		queues:   newQueuesPanel(&st),
		stages:   newStagesPanel(&st),
		e2e:      newE2EPanel(&st),
		trace:    newTracePanel(&st),
		timeline: newTimelineView(&st),
		activity: newActivityPanel(&st),
		help:     newHelpView(&st, &km),
		report:   newReportView(&st),
		why:      newWhyView(&st),
		prompt:   newPrompt(&st),
		slowed:   map[string]engine.Dist{},
		seq:      1, // Init's poll
	}
	m.syncKeys()
	m.setFocus(focusStages)
	return m
}

// Init starts polling. Its poll is number 1, which New reserved: Init
// cannot change the model.
func (m Model) Init() tea.Cmd {
	return m.fetchAs(1, true)
}

// fetch issues a poll; chain marks the periodic one.
func (m *Model) fetch(chain bool) tea.Cmd {
	m.seq++
	return m.fetchAs(m.seq, chain)
}

func (m *Model) fetchAs(seq uint64, chain bool) tea.Cmd {
	req := fetchReq{seq: seq, chain: chain}
	m.trace.request(&req)
	if m.screen == screenTimeline {
		req.orderID = m.timeline.id
	}
	return fetchCmd(m.src, m.load, req)
}

// markStale drops polls already on their way: they predate a change.
func (m *Model) markStale() { m.staleBefore = m.seq }

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tickMsg:
		return m, m.fetch(true)
	case dataMsg:
		return m.applyData(msg)
	case controlMsg:
		m.applyControl(msg)
		return m, m.fetch(false)
	case outageEndMsg:
		return m, m.endOutage(msg.gen)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	if m.prompt.active() {
		return m, m.prompt.Update(msg)
	}
	return m, nil
}

// applyData folds a poll into every component.
func (m Model) applyData(d dataMsg) (tea.Model, tea.Cmd) {
	var next tea.Cmd
	if d.req.chain {
		next = tickCmd(m.opts.RefreshInterval)
	}
	now := m.opts.Now()
	if d.req.seq <= m.staleBefore || d.req.seq < m.applied {
		if d.req.offset > 0 {
			m.trace.apply(d, now)
		}
		return m, next
	}
	m.applied = d.req.seq
	m.snap, m.hasSnap, m.prog = d.snap, true, d.progress
	m.noteChanges(now)
	m.header.Update(d.snap, d.progress, m.outage, now)
	m.help.SetNote(d.snap.Broker.Note)
	m.why.Update(d.snap)
	m.queues.Update(d.snap)
	m.stages.Update(d.snap, m.slowedSet(), m.outage != nil)
	m.stages.limit = nil
	if d.progress != nil {
		l := d.progress.Limit
		m.stages.limit = &l
	}
	m.e2e.Update(d.snap)
	m.activity.Update(d.snap, now)
	m.trace.apply(d, now)
	m.timeline.apply(d, now)
	if !m.flash.at.IsZero() && now.Sub(m.flash.at) > flashFor {
		m.flash = flash{}
	}
	if p := d.progress; p != nil && p.State == loadgen.StateDone && p.ReportText != "" {
		m.report.Set(p.ReportText, p.Passed)
		if !m.reportSeen {
			m.reportSeen = true
			m.screen = screenReport
		}
	}
	m.syncKeys()
	m.layout()
	return m, next
}

// noteChanges flashes control changes made elsewhere (scenario actions,
// the admin API) as they arrive.
func (m *Model) noteChanges(now time.Time) {
	if len(m.snap.Changes) == 0 {
		return
	}
	newest := m.snap.Changes[0]
	if !m.lastChange.IsZero() && newest.Time.After(m.lastChange) && newest.Source != controlSource {
		m.flash = flash{text: newest.Source + ": " + newest.Text, at: now}
	}
	if newest.Time.After(m.lastChange) {
		m.lastChange = newest.Time
	}
}

func (m *Model) applyControl(c controlMsg) {
	if c.err != nil {
		m.setFlash(c.err.Error(), true)
		return
	}
	m.setFlash(c.text, false)
	if c.cfg != nil {
		m.setStageConfig(c.stage, *c.cfg)
	}
}

func (m *Model) setFlash(text string, isErr bool) {
	m.flash = flash{text: text, err: isErr, at: m.opts.Now()}
}

// stageNamed returns a stage from the latest snapshot.
func (m *Model) stageNamed(name string) (engine.StageSnapshot, bool) {
	for _, s := range m.snap.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return engine.StageSnapshot{}, false
}

// setStageConfig shows a stage's new knobs before the next poll does.
func (m *Model) setStageConfig(name string, c engine.StageConfig) {
	m.editStage(name, func(s *engine.StageSnapshot) { s.Config = c })
}

func (m *Model) setStagePaused(name string, paused bool) {
	m.editStage(name, func(s *engine.StageSnapshot) { s.Paused = paused })
}

func (m *Model) editStage(name string, edit func(*engine.StageSnapshot)) {
	stages := append([]engine.StageSnapshot(nil), m.snap.Stages...)
	for i := range stages {
		if stages[i].Name == name {
			edit(&stages[i])
		}
	}
	m.snap.Stages = stages
	m.markStale()
	m.stages.Update(m.snap, m.slowedSet(), m.outage != nil)
}

func (m *Model) slowedSet() map[string]bool {
	out := make(map[string]bool, len(m.slowed))
	for k := range m.slowed {
		out[k] = true
	}
	return out
}

// scenarioRunning reports whether a scenario (not manual load) drives the
// load generator.
func (m *Model) scenarioRunning() bool {
	if m.opts.ScenarioName != "" {
		return true
	}
	return m.prog != nil && m.prog.Scenario != ""
}

// syncKeys enables the keys that apply now, so the help shows only those.
func (m *Model) syncKeys() {
	k := m.keys
	hasLoad := m.load != nil
	manual := hasLoad && !m.scenarioRunning()
	k.PauseLoad.SetEnabled(hasLoad)
	k.StartLoad.SetEnabled(manual)
	k.RateUp.SetEnabled(manual)
	k.RateDown.SetEnabled(manual)
	k.Report.SetEnabled(m.reportSeen)
	steer := m.ctl != nil
	for _, b := range []*key.Binding{&k.WorkersUp, &k.WorkersDown, &k.PrefetchUp, &k.PrefetchDown, &k.Slow,
		&k.Restore, &k.ErrorUp, &k.ErrorDown, &k.DeclineUp, &k.DeclineDown, &k.StopStage, &k.Outage} {
		b.SetEnabled(steer)
	}
	// Admission control is the API's: a process without it has none.
	k.Backlog.SetEnabled(steer && (!m.hasSnap || slices.Contains(m.snap.Roles, engine.RoleAPI)))
}

func (m *Model) setFocus(p panel) {
	m.focus = (p + panelCount) % panelCount
	m.stages.SetFocused(m.focus == focusStages)
	m.trace.SetFocused(m.focus == focusTrace)
	m.activity.SetFocused(m.focus == focusActivity)
	m.layout()
}

// View draws the whole screen: header, body, status line and help bar,
// exactly the window's size.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "oms-sim"
	return v
}

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return "oms-sim: starting…"
	}
	var body string
	switch m.screen {
	case screenHelp:
		return block(append(splitLines(m.help.FullView()), m.helpBar()), m.width, m.height)
	case screenTimeline:
		body = m.timeline.View()
	case screenReport:
		body = m.report.View()
	case screenWhy:
		body = m.why.View()
	default:
		body = m.mainBody()
	}
	lines := splitLines(m.header.View())
	lines = append(lines, splitLines(block(splitLines(body), m.width, m.bodyHeight()))...)
	lines = append(lines, m.statusLine(), m.helpBar())
	return block(lines, m.width, m.height)
}
