package tui

import (
	"fmt"
	"sort"
	"time"

	"oms-sim/engine"
)

// activityPanel lists recent problems (dead letters with their reasons,
// publish failures, reconnects) and control changes, whoever made them
// (dashboard, admin API, scenario actions). Wide, the two lists stand side
// by side; narrow, they merge in time order.
type activityPanel struct {
	st            *Styles
	width, height int
	focused       bool
	wide          bool
	scroll        int
	now           time.Time

	errors  []engine.ErrorEntry
	changes []engine.Change
}

func newActivityPanel(st *Styles) activityPanel { return activityPanel{st: st} }

// SetSize sets the size; wide puts errors and changes side by side.
func (p *activityPanel) SetSize(w, h int, wide bool) { p.width, p.height, p.wide = w, h, wide }
func (p *activityPanel) SetFocused(f bool)           { p.focused = f }

func (p *activityPanel) Update(snap engine.Snapshot, now time.Time) {
	p.errors, p.changes, p.now = snap.Errors, snap.Changes, now
	p.Scroll(0)
}

// Scroll moves both lists by delta entries.
func (p *activityPanel) Scroll(delta int) {
	n := len(p.errors) + len(p.changes)
	if p.wide {
		n = max(len(p.errors), len(p.changes))
	}
	p.scroll = min(max(p.scroll+delta, 0), max(n-(p.height-1), 0))
}

type activityItem struct {
	t    time.Time
	text string
}

func (p *activityPanel) errorItems() []activityItem {
	st := p.st
	out := make([]activityItem, 0, len(p.errors))
	for _, e := range p.errors {
		where := e.Stage
		if e.OrderID != "" {
			where += " " + shortID(e.OrderID, 13)
		}
		s := st.Muted.Render(fitRight(fmtAgo(e.Time, p.now), 4)) + " " + st.Bad.Render("✗") + " "
		if where != "" {
			s += st.Text.Render(where) + st.Muted.Render(": ")
		}
		out = append(out, activityItem{e.Time, s + st.Warn.Render(e.Message)})
	}
	return out
}

func (p *activityPanel) changeItems() []activityItem {
	st := p.st
	out := make([]activityItem, 0, len(p.changes))
	for _, c := range p.changes {
		s := st.Muted.Render(fitRight(fmtAgo(c.Time, p.now), 4)) + " " + st.Accent.Render("⚙") + " " +
			st.Muted.Render(c.Source+": ") + st.Text.Render(c.Text)
		out = append(out, activityItem{c.Time, s})
	}
	return out
}

// View draws the panel.
func (p *activityPanel) View() string {
	st := p.st
	title := st.Title
	if p.focused {
		title = st.TitleFocus
	}
	errTitle := title.Render(fmt.Sprintf(" ERRORS & DEAD LETTERS (%d) ", len(p.errors)))
	chgTitle := title.Render(fmt.Sprintf(" CHANGES (%d) ", len(p.changes)))
	rows := max(p.height-1, 0)
	if p.wide {
		lw := (p.width - 2) / 2
		left := p.list(errTitle, p.errorItems(), "no errors", rows)
		right := p.list(chgTitle, p.changeItems(), "no changes yet", rows)
		return sideBySide(block(left, lw, p.height), block(right, p.width-lw-2, p.height), 2)
	}
	items := append(p.errorItems(), p.changeItems()...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].t.After(items[j].t) })
	return block(p.list(errTitle+" "+chgTitle, items, "no errors, no changes yet", rows), p.width, p.height)
}

func (p *activityPanel) list(title string, items []activityItem, empty string, rows int) []string {
	lines := []string{title}
	if len(items) == 0 {
		return append(lines, p.st.Muted.Render("  "+empty))
	}
	start := min(p.scroll, max(len(items)-rows, 0))
	for i := start; i < len(items) && i < start+rows; i++ {
		lines = append(lines, items[i].text)
	}
	return lines
}

// summary is a one-line digest for layouts with no room for the panel.
func (p *activityPanel) summary() string {
	st := p.st
	s := st.Muted.Render(fmt.Sprintf("errors %d · changes %d (tab shows them)", len(p.errors), len(p.changes)))
	items := append(p.errorItems(), p.changeItems()...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].t.After(items[j].t) })
	if len(items) > 0 {
		s += st.Muted.Render(" · latest ") + items[0].text
	}
	return s
}
