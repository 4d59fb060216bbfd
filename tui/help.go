package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// helpView renders the KeyMap with bubbles/help: one line at the bottom
// of every screen, and the full help (?) as titled columns that wrap into
// rows when the terminal is narrow.
type helpView struct {
	st            *Styles
	km            *KeyMap
	model         help.Model
	width, height int
	scroll        int
}

func newHelpView(st *Styles, km *KeyMap) helpView {
	h := help.New()
	h.Styles = st.Help
	return helpView{st: st, km: km, model: h}
}

func (h *helpView) SetSize(w, ht int) {
	h.width, h.height = w, ht
	h.model.SetWidth(w)
}

// ShortView is the one-line help bar for the given bindings. The last
// keep bindings (help, quit) always show: when the bar is too wide, the
// ones before them go, last first.
func (h *helpView) ShortView(bindings []key.Binding, keep int) string {
	var enabled []key.Binding
	for _, b := range bindings {
		if b.Enabled() {
			enabled = append(enabled, b)
		}
	}
	keep = min(keep, len(enabled))
	head, tail := enabled[:len(enabled)-keep], enabled[len(enabled)-keep:]
	free := h.model
	free.SetWidth(0) // measure untruncated
	for n := len(head); ; n-- {
		bs := append(append([]key.Binding(nil), head[:n]...), tail...)
		s := free.ShortHelpView(bs)
		if n == 0 || lipgloss.Width(s) <= h.width {
			return clip(s, h.width)
		}
	}
}

// Scroll moves the full help when it is taller than the screen.
func (h *helpView) Scroll(delta int) { h.scroll = max(h.scroll+delta, 0) }

// FullView is the full help screen.
func (h *helpView) FullView() string {
	st := h.st
	var cols []string
	for _, g := range h.km.fullHelp() {
		if !anyEnabled(g.keys) {
			continue
		}
		body := h.model.FullHelpView([][]key.Binding{g.keys})
		cols = append(cols, lipgloss.JoinVertical(lipgloss.Left, st.Title.Render(g.title), body))
	}
	// Pack columns into rows that fit the width.
	const gap = 4
	var rows []string
	var cur []string
	curW := 0
	flush := func() {
		if len(cur) > 0 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, cur...))
		}
		cur, curW = nil, 0
	}
	for _, c := range cols {
		w := lipgloss.Width(c)
		if curW > 0 && curW+gap+w > h.width {
			flush()
		}
		if curW > 0 {
			c = lipgloss.NewStyle().PaddingLeft(gap).Render(c)
			w += gap
		}
		cur = append(cur, c)
		curW += w
	}
	flush()
	intro := []string{
		st.TitleFocus.Render(" HELP "),
		st.Muted.Render("Steering keys act on the stage selected in the STAGES panel (tab to it, ↑/↓ to pick)."),
		"",
	}
	lines := append(intro, strings.Split(strings.Join(rows, "\n\n"), "\n")...)
	lines = append(lines, "", st.Muted.Render("q or ctrl+c quits and drains in-flight orders; a second ctrl+c stops at once. ? or esc closes this help."))
	for i := range lines {
		lines[i] = clip(lines[i], h.width)
	}
	h.scroll = min(h.scroll, max(len(lines)-h.height, 0))
	return block(lines[h.scroll:], h.width, h.height)
}

func anyEnabled(bs []key.Binding) bool {
	for _, b := range bs {
		if b.Enabled() {
			return true
		}
	}
	return false
}
