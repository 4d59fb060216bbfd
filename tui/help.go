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
	note          string // the broker note in full (the header shows it short)
}

// SetNote sets the broker note the full help shows in full.
func (h *helpView) SetNote(note string) { h.note = note }

// glossary explains the dashboard's words, one line each, for a learner.
var glossary = [][2]string{
	{"ready", "messages waiting in a queue for a worker to take them"},
	{"unacked", "messages a worker has taken but not yet finished (acknowledged); back to ready if it dies"},
	{"prefetch", "how many unacked messages the broker hands one worker at most"},
	{"in flight", "orders a stage holds right now: taken from its queue, not yet passed on"},
	{"utilisation ρ", "work arriving ÷ work the stage can do (arrival rate × mean service time ÷ workers); ≥ 100% means its queue grows"},
	{"queue wait", "time a message sat in the queue before a worker took it — the part more workers shorten"},
	{"service time", "time a worker spends on one message once it has it — the part only faster work shortens"},
	{"predicted wait", "what queueing theory (M/M/c, Erlang C) expects the queue wait to be from λ, service time and workers"},
	{"Little's law", "queue length = arrival rate × wait: one number predicts the other, in any stable queue"},
	{"retry", "a transient failure: the message waits in a retry queue (100 ms, 1 s, 10 s) and comes back"},
	{"dead letter", "a message given up on (undecodable, or out of attempts), kept in oms.dead with its reason"},
	{"bottleneck", "the busiest stage: it sets the pipeline's pace; adding workers elsewhere changes nothing"},
	{"flow control", "the broker slowing a connection's publishing because it cannot keep up (m: the broker's view)"},
	{"alarm", "a node past its memory or disk limit: the broker blocks every publisher until it clears"},
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
	if h.note != "" {
		lines = append(lines, "", st.Title.Render("BROKER"))
		for _, l := range wrapLines(h.note, h.width, 4) {
			lines = append(lines, st.Warn.Render(l))
		}
	}
	lines = append(lines, "", st.Title.Render("GLOSSARY"))
	termW := 0
	for _, g := range glossary {
		termW = max(termW, lipgloss.Width(g[0]))
	}
	for _, g := range glossary {
		term := g[0] + strings.Repeat(" ", termW-lipgloss.Width(g[0]))
		text := g[1]
		if h.width >= termW+12 {
			// Wrap the explanation beside the term.
			ws := wrapLines(text, h.width-termW-2, 3)
			lines = append(lines, st.Text.Render(term)+"  "+st.Muted.Render(ws[0]))
			for _, w := range ws[1:] {
				lines = append(lines, strings.Repeat(" ", termW+2)+st.Muted.Render(w))
			}
			continue
		}
		lines = append(lines, st.Text.Render(term)+"  "+st.Muted.Render(text))
	}
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
