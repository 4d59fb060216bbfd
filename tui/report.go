package tui

import (
	"strings"
)

// reportView shows the final report of a finished scenario until the user
// quits; r switches between it and the dashboard.
type reportView struct {
	st            *Styles
	width, height int
	lines         []string
	passed        bool
	scroll        int
}

func newReportView(st *Styles) reportView { return reportView{st: st} }

func (v *reportView) SetSize(w, h int) { v.width, v.height = w, h; v.Scroll(0) }

// Set takes the report text.
func (v *reportView) Set(text string, passed bool) {
	v.lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
	v.passed = passed
}

// Scroll moves the report by delta lines.
func (v *reportView) Scroll(delta int) {
	v.scroll = min(max(v.scroll+delta, 0), max(len(v.lines)-(v.height-1), 0))
}

// View draws the report under a title line.
func (v *reportView) View() string {
	st := v.st
	verdict := st.Good.Render("✓ passed")
	if !v.passed {
		verdict = st.Bad.Render("✗ failed")
	}
	lines := []string{st.TitleFocus.Render(" FINAL REPORT ") + "  " + verdict + "  " +
		st.Muted.Render("↑/↓ scroll · r dashboard · q quit")}
	end := min(v.scroll+max(v.height-1, 0), len(v.lines))
	for _, l := range v.lines[min(v.scroll, end):end] {
		lines = append(lines, st.Text.Render(strings.ReplaceAll(l, "\t", "    ")))
	}
	return block(lines, v.width, v.height)
}
