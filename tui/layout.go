package tui

import "strings"

// Layout thresholds.
const (
	// wideWidth puts queues beside end-to-end, and errors beside changes.
	wideWidth = 140
	// roomyHeight is the body height from which every panel gets its
	// full size with blank lines between; below it panels collapse.
	roomyHeight = 28
	// minTrace is the fewest lines the trace gets before other panels
	// give up room.
	minTrace = 4
)

// mainPlan is how the main screen's body height is shared out.
type mainPlan struct {
	side     bool // queues and end-to-end side by side
	queues   int
	e2e      int // 0 when side (it shares the queues' lines)
	stages   int
	activity int
	summary  int // one-line digest of errors and changes
	trace    int
	gap      int // blank line between sections
}

// planMain shares body lines b among the panels at width w. The focused
// panel decides, when short of room, whether the trace or the errors get
// the bottom.
func planMain(w, b int, activityFocused bool) mainPlan {
	p := mainPlan{side: w >= wideWidth, queues: 5, e2e: 5, stages: 6}
	if p.side {
		p.e2e = 0
	}
	if b >= roomyHeight {
		p.gap = 1
		p.queues++ // room for the broker's side under the queues
		rest := b - p.queues - p.e2e - p.stages - 3*p.gap
		p.activity = min(max(rest/3, 3), 8)
		if activityFocused {
			p.activity = max(rest/2, 3) // focus gives the errors room
		}
		p.trace = rest - p.activity
		return p
	}
	// Compact: tighter panels, and the bottom goes to whichever of trace
	// and errors has focus, the other shrinking to a summary line.
	p.stages = 5
	if !p.side {
		p.e2e = 1
	}
	rest := b - p.queues - p.e2e - p.stages
	if rest < minTrace+1 {
		// Too short for everything: the queues go first (their depth
		// still shows in the stages' bottleneck line), then a stage line.
		rest += p.queues
		p.queues = 0
		if p.side {
			p.side, p.e2e = false, 1
			rest--
		}
	}
	if rest < minTrace {
		rest++
		p.stages--
	}
	if rest > minTrace+1 {
		p.summary = 1
		rest--
	}
	if activityFocused {
		p.activity = max(rest, 0)
	} else {
		p.trace = max(rest, 0)
	}
	if over := p.queues + p.e2e + p.stages - b; over > 0 {
		// A sliver of a terminal: the stages alone, as many lines as fit.
		p.e2e = 0
		p.stages = min(p.stages, b)
	}
	return p
}

// layout sizes every component for the current window and content.
func (m *Model) layout() {
	w, h := m.width, m.height
	m.header.SetSize(w, h)
	m.help.SetSize(w, max(h-1, 0))
	body := m.bodyHeight()
	m.timeline.SetSize(w, body)
	m.report.SetSize(w, body)
	m.why.SetSize(w, body)
	m.prompt.SetWidth(w)

	p := planMain(w, body, m.focus == focusActivity)
	m.plan = p
	if p.side {
		qw := min(w*11/20, 90)
		m.queues.SetSize(qw, p.queues)
		m.e2e.SetSize(w-qw-2, p.queues)
	} else {
		m.queues.SetSize(w, p.queues)
		m.e2e.SetSize(w, p.e2e)
	}
	m.stages.SetSize(w, p.stages)
	m.activity.SetSize(w, p.activity, w >= wideWidth)
	m.trace.SetSize(w, p.trace)
}

// bodyHeight is the height between the header and the two footer lines.
func (m *Model) bodyHeight() int {
	return max(m.height-m.header.Height()-footerLines, 0)
}

// footerLines are the status line and the help bar.
const footerLines = 2

// mainBody renders the dashboard's panels as the plan says.
func (m *Model) mainBody() string {
	p := m.plan
	var parts []string
	add := func(s string) {
		if s != "" {
			if len(parts) > 0 && p.gap > 0 {
				parts = append(parts, strings.Repeat(" ", m.width))
			}
			parts = append(parts, s)
		}
	}
	switch {
	case p.side && p.queues > 0:
		add(sideBySide(m.queues.View(), m.e2e.View(), 2))
	case p.queues > 0:
		add(m.queues.View())
	}
	add(m.stages.View())
	if !p.side && p.e2e > 0 {
		add(m.e2e.View())
	}
	if p.summary > 0 {
		parts = append(parts, clip(m.activity.summary(), m.width))
	}
	if p.activity > 0 {
		add(m.activity.View())
	}
	if p.trace > 0 {
		add(m.trace.View())
	}
	return strings.Join(parts, "\n")
}
