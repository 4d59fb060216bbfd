package tui

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"
	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

// header is the top of the screen: broker and connection, the run and its
// phase with a progress bar, target against achieved rate, and a third
// line for whatever needs attention (an outage, a lost connection, how the
// broker was chosen, what the phase shows).
type header struct {
	st       *Styles
	width    int
	height   int // the terminal's
	scenario string
	hasLoad  bool
	bar      progress.Model

	snap    engine.Snapshot
	hasSnap bool
	prog    *loadgen.Progress
	outage  *outage
	now     time.Time
}

func newHeader(st *Styles, scenario string, hasLoad bool) header {
	bar := progress.New(progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'),
		progress.WithColors(st.BarFull), progress.WithWidth(20))
	bar.EmptyColor = st.BarEmpty
	return header{st: st, scenario: scenario, hasLoad: hasLoad, bar: bar}
}

// SetSize sets the width and the terminal's height; the header's height
// follows from the content (Height).
func (h *header) SetSize(w, termHeight int) {
	h.width, h.height = w, termHeight
	h.bar.SetWidth(min(24, max(8, w/8)))
}

// Update takes the latest poll.
func (h *header) Update(snap engine.Snapshot, prog *loadgen.Progress, o *outage, now time.Time) {
	h.snap, h.hasSnap, h.prog, h.outage, h.now = snap, true, prog, o, now
}

// Height is how many lines View draws.
func (h *header) Height() int {
	return 2 + len(h.notices())
}

// View draws the header.
func (h *header) View() string {
	lines := append([]string{h.brokerLine(), h.runLine()}, h.notices()...)
	for i := range lines {
		lines[i] = clip(lines[i], h.width)
	}
	return strings.Join(lines, "\n")
}

func (h *header) brokerLine() string {
	st := h.st
	b := h.snap.Broker
	brand := st.Brand.Render("oms-sim")
	if !h.hasSnap {
		return brand + " " + st.Muted.Render("connecting…")
	}
	where := b.URL
	if b.Kind == "embedded" || where == "" {
		where = "embedded"
	}
	if n := strings.Count(where, ",") + 1; n > 1 {
		// A cluster: which node each session is on says more than the list.
		where = fmt.Sprintf("%d nodes", n)
		if on := b.NodesLine(); on != "" {
			where += ", on " + on
		}
	} else if h.width < 100 { // room for what needs attention
		where = strings.TrimSuffix(strings.TrimPrefix(where, "amqp://"), "/")
	}
	parts := []part{{brand, 0}, {st.Muted.Render("broker ") + st.Text.Render(where), 0}}
	if b.QueueType != "" {
		parts = append(parts, part{st.Muted.Render("queues ") + st.Text.Render(b.QueueType), 2})
	}
	if k := brokerKnobs(b); k != "" {
		parts = append(parts, part{st.Muted.Render("msgs ") + st.Text.Render(k), 3})
	}
	parts = append(parts, h.stateParts()...)
	if b.Connected {
		parts = append(parts, part{st.Good.Render("● connected"), 0})
	} else {
		s := "○ reconnecting"
		if b.Reconnects > 0 {
			s += fmt.Sprintf(" (%d)", b.Reconnects)
		}
		parts = append(parts, part{st.Bad.Render(s), 0})
	}
	if len(h.snap.Roles) > 0 && len(h.snap.Roles) < len(engine.StageNames)+1 {
		parts = append(parts, part{st.Muted.Render("runs ") + st.Text.Render(strings.Join(h.snap.Roles, ",")), 2})
	}
	if !h.snap.Started.IsZero() && !h.snap.Time.IsZero() {
		parts = append(parts, part{st.Muted.Render("up ") + st.Text.Render(fmtClock(h.snap.Time.Sub(h.snap.Started))), 3})
	}
	parts = append(parts, part{st.Muted.Render("accepting ") + st.Text.Render(fmtRate(h.snap.AcceptRate)+"/s"), 1})
	if a := h.snap.Admission; a.Shedding {
		text := fmt.Sprintf("⛔ shedding: backlog %s > %s", fmtCount(a.Backlog), fmtCount(a.MaxBacklog))
		if h.width < 100 {
			text = fmt.Sprintf("⛔ shedding %s>%s", fmtCount(a.Backlog), fmtCount(a.MaxBacklog))
		}
		parts = append(parts, part{st.Bad.Render(text), 0})
	} else if a.Shed > 0 {
		parts = append(parts, part{st.Warn.Render(fmt.Sprintf("shed %s", fmtCount(a.Shed))), 2})
	}
	return joinFit(parts, "  ", h.width)
}

// stateParts shows a shared state (--state postgres://…): where it is
// and the stock every process reads from it, as one part ("state pg
// localhost:5432/oms stock 5.00M"), then the redeliveries its inbox
// answered (each stage's own are in its line). A process's own memory,
// the default, shows nothing.
func (h *header) stateParts() []part {
	s, st := h.snap.State, h.st
	if s.Kind == "" || s.Kind == engine.StateMemory {
		return nil
	}
	where := s.URL
	if h.width < 180 {
		where = shortState(s)
	}
	text := st.Muted.Render("state ") + st.Text.Render(where)
	if s.Err != "" {
		text += " " + st.Bad.Render("unreadable")
	}
	text += st.Muted.Render(" stock ") + st.Text.Render(fmtCount(s.Units))
	if s.OutOfStock > 0 {
		text += st.Warn.Render(fmt.Sprintf(" %d sold out", s.OutOfStock))
	}
	parts := []part{{text, 2}}
	if s.InboxHits > 0 {
		parts = append(parts, part{st.Muted.Render("inbox hits ") + st.Text.Render(fmtCount(s.InboxHits)), 3})
	}
	return parts
}

// shortState is "pg host:port/db" of a state described as "postgres
// user@host:port/db schema S".
func shortState(s engine.StateStatus) string {
	d := s.URL
	if d == "" {
		return s.Kind
	}
	if i := strings.Index(d, " schema "); i >= 0 {
		d = d[:i]
	}
	if i := strings.LastIndex(d, "@"); i >= 0 {
		d = d[i+1:]
	} else {
		d = strings.TrimPrefix(d, s.Kind+" ")
	}
	if s.Kind == engine.StatePostgres {
		return "pg " + d
	}
	return s.Kind + " " + d
}

// brokerKnobs names the benchmark knobs that differ from the defaults
// (body size, transient delivery, connection layout); empty when none do.
func brokerKnobs(b engine.BrokerStatus) string {
	var k []string
	if b.BodyBytes > 0 {
		k = append(k, fmt.Sprintf("%dB", b.BodyBytes))
	}
	if !b.Persistent && b.Connections != "" { // Connections is empty in a snapshot not from an engine
		k = append(k, "transient")
	}
	if b.Connections != "" && b.Connections != engine.ConnPerStage {
		k = append(k, b.Connections)
	}
	return strings.Join(k, " ")
}

func (h *header) runLine() string {
	st := h.st
	p := h.prog
	name := h.scenario
	if p != nil && p.Scenario != "" {
		name = p.Scenario
	}
	if p == nil {
		switch {
		case !h.hasLoad && h.hasSnap && slices.Equal(h.snap.Roles, []string{engine.RoleNone}):
			return st.Muted.Render("watching: the pipeline runs in other processes; its figures come from their events")
		case !h.hasLoad && h.hasSnap && !slices.Contains(h.snap.Roles, engine.RoleAPI):
			return st.Muted.Render("no API here: orders come from other processes (--role)")
		case !h.hasLoad:
			return st.Muted.Render("no load generator — send orders to POST /api/orders")
		}
		return st.Muted.Render("load generator starting…")
	}
	var parts []part
	switch {
	case name != "" && h.width < 100:
		parts = append(parts, part{st.Accent.Render(name), 0})
	case name != "":
		parts = append(parts, part{st.Muted.Render("scenario ") + st.Accent.Render(name), 0})
	case p.Manual && p.State == loadgen.StateRunning:
		parts = append(parts, part{st.Muted.Render("manual load"), 0})
	default:
		return st.Muted.Render("no load — press l to start orders at a rate, ] to step it up")
	}
	switch p.State {
	case loadgen.StateDone:
		verdict := st.Good.Render("✓ passed")
		if !p.Passed {
			verdict = st.Bad.Render("✗ failed")
		}
		parts = append(parts, part{st.Text.Render("done") + " " + verdict, 0}, part{st.Muted.Render("r toggles the report"), 1})
		return joinFit(parts, "  ", h.width)
	case loadgen.StateDraining:
		parts = append(parts, part{st.Warn.Render("draining…"), 0})
	}
	if p.Phase != "" {
		parts = append(parts, part{st.Muted.Render(fmt.Sprintf("phase %d/%d ", p.PhaseIndex+1, p.Phases)) + st.Text.Render(p.Phase), 0})
		if p.PhaseTotal > 0 {
			parts = append(parts, part{st.Muted.Render(fmtClock(p.PhaseElapsed) + "/" + fmtClock(p.PhaseTotal)), 2})
		}
	}
	if p.Total > 0 {
		frac := float64(p.Elapsed) / float64(p.Total)
		parts = append(parts, part{h.bar.ViewAs(min(max(frac, 0), 1)) + " " + st.Text.Render(fmtClock(p.Elapsed)+"/"+fmtClock(p.Total)), 0})
	} else if p.Elapsed > 0 {
		parts = append(parts, part{st.Text.Render(fmtClock(p.Elapsed)), 0})
	}
	rate := st.Muted.Render("target ") + st.Text.Render(fmtRate(p.TargetRate)+"/s") +
		st.Muted.Render(" achieved ") + st.Level(shortfall(p), 0.1, 0.3).Render(fmtRate(p.AchievedRate)+"/s")
	parts = append(parts, part{rate, 0})
	if p.Failed > 0 {
		parts = append(parts, part{st.Bad.Render(fmt.Sprintf("%d refused", p.Failed)), 2})
	}
	if p.Shed > 0 {
		parts = append(parts, part{st.Warn.Render(fmt.Sprintf("%s shed", fmtCount(p.Shed))), 2})
	}
	if p.Dropped > 0 {
		parts = append(parts, part{st.Bad.Render(fmt.Sprintf("%s dropped", fmtCount(p.Dropped))), 1})
	}
	if p.Paused {
		parts = append(parts, part{st.Warn.Render("⏸ load paused"), 0})
	}
	return joinFit(parts, "  ", h.width)
}

// part is one item of a header line; drop orders which go first when the
// line is too wide (0 never goes).
type part struct {
	s    string
	drop int
}

// joinFit joins parts with sep, leaving out the most droppable ones until
// the line fits width; what still does not fit is cut.
func joinFit(parts []part, sep string, width int) string {
	for {
		var ss []string
		worst := -1
		for i, p := range parts {
			ss = append(ss, p.s)
			if p.drop > 0 && (worst < 0 || p.drop >= parts[worst].drop) {
				worst = i
			}
		}
		line := strings.Join(ss, sep)
		if worst < 0 || ansi.StringWidth(line) <= width {
			return clip(line, width)
		}
		parts = append(parts[:worst:worst], parts[worst+1:]...)
	}
}

// shortfall is how far the achieved rate falls below target, 0..1.
func shortfall(p *loadgen.Progress) float64 {
	if p.TargetRate <= 0 || p.Paused {
		return 0
	}
	return max(0, 1-p.AchievedRate/p.TargetRate)
}

// notices are the attention lines: what needs attention (an outage, a
// lost connection, how the broker was chosen — one short line), then the
// running phase's text (what to watch), wrapped to phaseLines lines. Both
// show at once: a notice must never hide the lesson.
func (h *header) notices() []string {
	st := h.st
	var out []string
	switch {
	case h.outage != nil:
		left := h.outage.until.Sub(h.now).Round(time.Second)
		out = append(out, st.Bad.Render(fmt.Sprintf("⚠ payment outage: every payment declined — %v left", max(left, 0))))
	case h.hasSnap && !h.snap.Broker.Connected && h.snap.Broker.LastError != "":
		out = append(out, st.Bad.Render("⚠ broker: "+h.snap.Broker.LastError))
	case h.hasSnap && h.snap.API.Admin == engine.AdminInsecure:
		out = append(out, st.Bad.Render("⚠ --insecure-admin: anyone who reaches the API may change stages and stock"))
	case h.hasSnap && h.snap.Broker.Note != "":
		out = append(out, st.Warn.Render("⚠ "+shortNote(h.snap.Broker.Note))+st.Muted.Render(" · ? says why"))
	}
	if p := h.prog; p != nil && p.PhaseDescription != "" && p.State == loadgen.StateRunning {
		for _, l := range wrapLines("▸ "+expandWhy(p.PhaseDescription, h.snap), h.width, h.phaseLines()) {
			out = append(out, st.Muted.Render(l))
		}
	}
	return out
}

// phaseLines is how many lines the phase's text may take: two on a small
// terminal (80×24), three on a larger one.
func (h *header) phaseLines() int {
	if h.height > 0 && h.height < 30 {
		return 2
	}
	return 3
}

var noRabbit = regexp.MustCompile(`no RabbitMQ at (\S+) \(`)

// shortNote is a broker note in a few words: the embedded broker's
// fallback names only where RabbitMQ was looked for (the dial error is in
// the log and on ?).
func shortNote(note string) string {
	if m := noRabbit.FindStringSubmatch(note); m != nil {
		where := m[1]
		if u, err := url.Parse(where); err == nil && u.Host != "" {
			where = u.Host
		}
		return "embedded broker — no RabbitMQ at " + where
	}
	if i := strings.Index(note, " ("); i > 0 && !strings.HasPrefix(note, "embedded broker (") {
		return note[:i]
	}
	return note
}

// wrapLines word-wraps plain text to width, in at most n lines; text left
// over ends the last line with "…".
func wrapLines(text string, width, n int) []string {
	if width < 10 {
		return []string{text}
	}
	lines := strings.Split(ansi.Wordwrap(text, width, ""), "\n")
	if len(lines) > n {
		last := strings.TrimRight(ansi.Truncate(lines[n-1], width-1, ""), " ")
		lines = append(lines[:n-1], last+"…")
	}
	return lines
}

var whyPlaceholder = regexp.MustCompile(`\{why:([a-z]+)\}`)

// expandWhy replaces each {why:STAGE} in a phase's text with the stage's
// live prediction: its predicted and measured queue wait, or, at ρ ≥ 1,
// how fast its queue grows. A tour phase says "payment's predicted wait is
// … — now watch the measured one" with the numbers of this run.
func expandWhy(text string, snap engine.Snapshot) string {
	return whyPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		name := whyPlaceholder.FindStringSubmatch(m)[1]
		for _, st := range snap.Stages {
			if st.Name != name {
				continue
			}
			p := st.Predicted
			switch {
			case p == nil:
				return "(" + name + "'s prediction comes with its first figures)"
			case !p.Stable:
				return fmt.Sprintf("%s's ρ is %s, so its queue grows %s/s without bound", name, fmtPct(p.Rho), fmtRate(p.Growth))
			case st.QueueWaitRecent.Count > 0:
				return fmt.Sprintf("%s's predicted wait is %s (Erlang C), measured %s", name, fmtDur(p.Wait), fmtDur(st.QueueWaitRecent.Mean))
			}
			return fmt.Sprintf("%s's predicted wait is %s (Erlang C)", name, fmtDur(p.Wait))
		}
		return m
	})
}
