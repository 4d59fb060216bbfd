package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

// stagesPanel lists the stages with their knobs and figures. One stage is
// selected: the steering keys act on it. The bottleneck is marked with ▲
// and its reason gets a line of its own.
type stagesPanel struct {
	st            *Styles
	width, height int
	focused       bool
	selected      int

	stages []engine.StageSnapshot
	loaded bool
	// slowed marks stages whose service time the dashboard changed (S
	// restores it); outage is the running payment outage, if any.
	slowed map[string]bool
	outage bool
	// limit is the load generator's verdict on what holds the load back
	// (nil without a load generator): shown when no stage is the reason.
	limit *loadgen.Limit
}

func newStagesPanel(st *Styles) stagesPanel { return stagesPanel{st: st} }

func (p *stagesPanel) SetSize(w, h int)  { p.width, p.height = w, h }
func (p *stagesPanel) SetFocused(f bool) { p.focused = f }
func (p *stagesPanel) Update(snap engine.Snapshot, slowed map[string]bool, outage bool) {
	p.stages, p.slowed, p.outage, p.loaded = snap.Stages, slowed, outage, true
	p.selected = min(max(p.selected, 0), max(len(p.stages)-1, 0))
}

// Move changes the selection by delta, staying in range.
func (p *stagesPanel) Move(delta int) {
	p.selected = min(max(p.selected+delta, 0), max(len(p.stages)-1, 0))
}

// Selected returns the selected stage.
func (p *stagesPanel) Selected() (engine.StageSnapshot, bool) {
	if p.selected < 0 || p.selected >= len(p.stages) {
		return engine.StageSnapshot{}, false
	}
	return p.stages[p.selected], true
}

var stageCols = []column{
	{title: "STAGES", width: 11},
	{title: "WORKERS", width: 7, right: true},
	{title: "PREF", width: 5, right: true},
	{title: "INFL", width: 5, right: true},
	{title: "RATE/s", width: 6, right: true},
	{title: "WAIT p50/p99", width: 13, right: true},
	{title: "SVC p50/p99", width: 13, right: true},
	{title: "UTIL", width: 5, right: true},
	{title: "OK", width: 8, right: true, drop: 3},
	{title: "FAILED", width: 6, right: true, drop: 3},
	{title: "RETRIED", width: 7, right: true, drop: 4},
	{title: "DEAD", width: 6, right: true, drop: 3},
	{title: "SERVICE TIME", width: 12, drop: 6, flex: true},
	{title: "ERR", width: 4, right: true, drop: 5},
	{title: "DECL", width: 4, right: true, drop: 5},
}

// gutter is the selection marker column in front of selectable rows.
const gutter = 2

// gutterRow puts the selection gutter in front of a selectable row's
// line: the marker on the selected row, drawn across the whole width
// when its panel has the focus, else blanks.
func gutterRow(st *Styles, line string, selected, focused bool, width int) string {
	switch {
	case selected && focused:
		return st.Selected.Render(fit("› "+line, width))
	case selected:
		return st.SelectedBlur.Render("› ") + line
	default:
		return "  " + line
	}
}

// View draws the header line, one line per stage, then the selected
// stage's knobs and the bottleneck's reason as room allows.
func (p *stagesPanel) View() string {
	st := p.st
	w := p.width - gutter
	ws := layoutColumns(stageCols, w)
	title := st.Title
	if p.focused {
		title = st.TitleFocus
	}
	lines := []string{title.Render(fit("  "+headerRow(stageCols, ws), p.width))}
	for i, s := range p.stages {
		lines = append(lines, gutterRow(st, row(stageCols, ws, p.cells(s)), i == p.selected, p.focused, p.width))
	}
	extra := p.height - len(lines)
	detail, neck := p.detailLine(), p.bottleneckLine()
	switch {
	case extra >= 2:
		lines = append(lines, detail, neck)
	case extra == 1 && p.hasBottleneck():
		lines = append(lines, neck)
	case extra == 1:
		lines = append(lines, detail)
	}
	return block(lines, p.width, p.height)
}

func (p *stagesPanel) cells(s engine.StageSnapshot) []string {
	st := p.st
	name := "  " + s.Name
	nameStyle := st.Text
	if s.Bottleneck {
		name, nameStyle = "▲ "+s.Name, st.Bottleneck
	}
	wait, svc := s.QueueWaitRecent, s.ServiceRecent
	if wait.Count == 0 {
		wait = s.QueueWait
	}
	if svc.Count == 0 {
		svc = s.Service
	}
	workers, prefetch, service, errRate, decl := p.knobCells(s)
	return []string{
		nameStyle.Render(name),
		workers,
		prefetch,
		st.Text.Render(fmtCount(s.InFlight)),
		st.Text.Render(fmtRate(s.Rate1s)),
		st.Text.Render(fmtDur(wait.P50) + "/" + fmtDur(wait.P99)),
		st.Text.Render(fmtDur(svc.P50) + "/" + fmtDur(svc.P99)),
		st.Level(s.Utilisation, 0.7, 1).Render(fmtPct(s.Utilisation)),
		st.Text.Render(fmtCount(s.OK)),
		countStyle(st, s.Failed).Render(fmtCount(s.Failed)),
		st.Text.Render(fmtCount(s.Retried)),
		countStyle(st, s.Dead).Render(fmtCount(s.Dead)),
		service,
		errRate,
		decl,
	}
}

// knobCells renders the stage's workers and knobs. A stage other
// processes run shows its queue's consumers as workers; its knobs are
// theirs, unknown here.
func (p *stagesPanel) knobCells(s engine.StageSnapshot) (workers, prefetch, service, errRate, decl string) {
	st := p.st
	if s.Remote {
		workers = st.Accent.Render(fmt.Sprint(s.Running))
		if s.Running == 0 {
			workers = st.Warn.Render("0")
		}
		none := st.Muted.Render("-")
		return workers, none, st.Muted.Render("other processes"), none, none
	}
	workers = st.Text.Render(fmt.Sprintf("%d/%d", s.Running, s.Config.Workers))
	if s.Paused {
		workers = st.Bad.Render("stopped")
	} else if s.Running != s.Config.Workers {
		workers = st.Warn.Render(fmt.Sprintf("%d/%d", s.Running, s.Config.Workers))
	}
	service = s.Config.ServiceTime.String()
	if p.slowed[s.Name] {
		service = st.Warn.Render(service + " (slowed)")
	}
	if s.Name == engine.StagePayment {
		decl = fmt.Sprintf("%.2f", s.Config.DeclineRate)
		if s.Config.DeclineRate >= 0.5 || p.outage {
			decl = st.Bad.Render(decl)
		}
	}
	return workers, st.Text.Render(fmt.Sprint(s.Config.Prefetch)), st.Muted.Render(service),
		st.Text.Render(fmt.Sprintf("%.2f", s.Config.ErrorRate)), decl
}

func countStyle(st *Styles, n int64) lipgloss.Style {
	if n > 0 {
		return st.Warn
	}
	return st.Text
}

// detailLine spells out the selected stage's knobs and counts.
func (p *stagesPanel) detailLine() string {
	s, ok := p.Selected()
	if !ok && p.loaded {
		return p.st.Muted.Render("  no stage runs in this process (see --role)")
	}
	if !ok {
		return p.st.Muted.Render("  waiting for the first snapshot…")
	}
	st := p.st
	parts := []string{
		st.Accent.Render(s.Name),
		"service " + s.Config.ServiceTime.String(),
		fmt.Sprintf("error %.2f", s.Config.ErrorRate),
	}
	if s.Remote {
		parts = []string{st.Accent.Render(s.Name),
			fmt.Sprintf("run by other processes (%d consumers); figures from their events", s.Running)}
	} else if s.Name == engine.DeclineStage {
		parts = append(parts, fmt.Sprintf("decline %.2f", s.Config.DeclineRate))
	}
	parts = append(parts,
		"ok "+fmtCount(s.OK), "failed "+fmtCount(s.Failed), "retried "+fmtCount(s.Retried), "dead "+fmtCount(s.Dead))
	if s.Declined > 0 {
		parts = append(parts, "declined "+fmtCount(s.Declined))
	}
	if s.OutOfStock > 0 {
		parts = append(parts, "out of stock "+fmtCount(s.OutOfStock))
	}
	if s.Refunds > 0 {
		parts = append(parts, "refunds "+fmtCount(s.Refunds))
	}
	if s.Redelivered > 0 {
		parts = append(parts, "redelivered "+fmtCount(s.Redelivered))
	}
	// Redeliveries the shared inbox answered (--state postgres://…):
	// handled before by this or another process, or before a restart.
	if s.InboxHits > 0 {
		parts = append(parts, "inbox hits "+fmtCount(s.InboxHits))
	}
	// Acks the connection refused (redelivered, answered from the stage's memory or the shared inbox)
	// and acks before the event log stored the events: rare, and worth
	// seeing when they happen.
	if s.AckErrors > 0 {
		parts = append(parts, st.Warn.Render("ack errors "+fmtCount(s.AckErrors)))
	}
	if s.Unrecorded > 0 {
		parts = append(parts, st.Warn.Render("acked unrecorded "+fmtCount(s.Unrecorded)))
	}
	return "  " + st.Muted.Render(strings.Join(parts, " · "))
}

func (p *stagesPanel) hasBottleneck() bool {
	for _, s := range p.stages {
		if s.Bottleneck {
			return true
		}
	}
	return p.limitElsewhere()
}

// limitElsewhere reports whether the load is held back by something other
// than a stage: the broker or oms-sim's own generator and API.
func (p *stagesPanel) limitElsewhere() bool {
	return p.limit != nil && (p.limit.Kind == loadgen.LimitBroker || p.limit.Kind == loadgen.LimitGenerator)
}

// bottleneckLine names the limiting stage and why.
func (p *stagesPanel) bottleneckLine() string {
	for _, s := range p.stages {
		if s.Bottleneck {
			reason := s.Reason
			if reason == "" {
				reason = "limits the pipeline"
			}
			return p.st.Bottleneck.Render("▲ bottleneck: " + s.Name + " — " + reason)
		}
	}
	if p.limitElsewhere() {
		who := "the broker"
		if p.limit.Kind == loadgen.LimitGenerator {
			who = "oms-sim's generator/API"
		}
		return p.st.Bottleneck.Render("▲ limit: " + who + " — " + p.limit.Evidence)
	}
	return p.st.Muted.Render("  no bottleneck: every stage keeps up")
}
