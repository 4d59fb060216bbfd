package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// handleKey routes a key press: the prompt first when open, then the
// screen, then the main screen's panels and steering keys.
func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.prompt.active() {
		return m.promptKey(msg)
	}
	switch m.screen {
	case screenHelp:
		switch {
		case key.Matches(msg, k.Help, k.Back):
			m.screen = m.prevScreen
		case key.Matches(msg, k.Quit):
			return m, tea.Quit
		case key.Matches(msg, k.Up):
			m.help.Scroll(-1)
		case key.Matches(msg, k.Down):
			m.help.Scroll(1)
		}
		return m, nil
	case screenTimeline:
		switch {
		case key.Matches(msg, k.Back):
			m.screen = screenMain
			return m, nil
		case key.Matches(msg, k.Up):
			m.timeline.Scroll(-1)
			return m, nil
		case key.Matches(msg, k.Down):
			m.timeline.Scroll(1)
			return m, nil
		}
	case screenWhy:
		if key.Matches(msg, k.Why, k.Back) {
			m.screen = screenMain
			return m, nil
		}
	case screenReport:
		switch {
		case key.Matches(msg, k.Report, k.Back):
			m.screen = screenMain
			return m, nil
		case key.Matches(msg, k.Up):
			m.report.Scroll(-1)
			return m, nil
		case key.Matches(msg, k.Down):
			m.report.Scroll(1)
			return m, nil
		case key.Matches(msg, k.PageUp):
			m.report.Scroll(-m.bodyHeight())
			return m, nil
		case key.Matches(msg, k.PageDown):
			m.report.Scroll(m.bodyHeight())
			return m, nil
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.prevScreen, m.screen = m.screen, screenHelp
		return m, nil
	}
	// Steering and load keys work on every screen but the help, so a
	// fault can be injected while an order's timeline is open.
	if cmd, ok := m.steerStage(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.loadKey(msg); ok {
		return m, cmd
	}
	if m.screen != screenMain {
		return m, nil
	}
	return m.mainKey(msg)
}

// mainKey handles navigation on the main screen.
func (m Model) mainKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	page := max(m.trace.visible()-1, 1)
	switch {
	case key.Matches(msg, k.NextPanel):
		m.setFocus(m.focus + 1)
	case key.Matches(msg, k.PrevPanel):
		m.setFocus(m.focus - 1)
	case key.Matches(msg, k.Report) && k.Report.Enabled():
		m.screen = screenReport
	case key.Matches(msg, k.Why):
		m.screen = screenWhy
	case key.Matches(msg, k.BrokerView):
		m.queues.ToggleBroker()
	case key.Matches(msg, k.Filter):
		m.trace.CycleFilter()
		m.setFocus(focusTrace)
		return m, m.fetch(false)
	case key.Matches(msg, k.FilterType):
		return m, m.prompt.Open(promptFilter, strings.ReplaceAll(m.trace.FilterLabel(), "all", ""))
	case key.Matches(msg, k.Up, k.Down, k.PageUp, k.PageDown):
		d := 1
		switch {
		case key.Matches(msg, k.Up):
			d = -1
		case key.Matches(msg, k.PageUp):
			d = -page
		case key.Matches(msg, k.PageDown):
			d = page
		}
		return m, m.move(d)
	case key.Matches(msg, k.Top):
		if m.focus == focusTrace {
			m.trace.Follow()
			return m, m.fetch(false)
		}
	case key.Matches(msg, k.Back):
		if m.focus == focusTrace {
			m.trace.Follow()
			return m, m.fetch(false)
		}
	case key.Matches(msg, k.Open):
		if r, ok := m.trace.Selected(); ok && m.focus == focusTrace {
			m.timeline.Open(r)
			m.screen = screenTimeline
			return m, m.fetch(false)
		}
	}
	return m, nil
}

// move moves within the focused panel.
func (m *Model) move(d int) tea.Cmd {
	switch m.focus {
	case focusStages:
		m.stages.Move(d)
	case focusActivity:
		m.activity.Scroll(d)
	case focusTrace:
		m.trace.Move(d)
		if m.trace.wantMore() {
			m.seq++
			req := fetchReq{seq: m.seq}
			m.trace.moreRequest(&req)
			return fetchCmd(m.src, m.load, req)
		}
	}
	return nil
}

// promptKey feeds the open prompt; enter submits it, esc cancels.
func (m Model) promptKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "esc":
		m.prompt.Close()
		return m, nil
	case "enter":
		kind, v := m.prompt.Close()
		switch kind {
		case promptRate:
			r, err := parseRate(v)
			if err != nil {
				m.setFlash(err.Error(), true)
				return m, nil
			}
			return m, m.setRate(r)
		case promptBacklog:
			if v == "" {
				m.setFlash("max backlog unchanged", false)
				return m, nil
			}
			n, err := parseBacklog(v)
			if err != nil {
				m.setFlash(err.Error(), true)
				return m, nil
			}
			return m, setBacklogCmd(m.ctl, n)
		case promptFilter:
			f, err := parseFilter(v)
			if err != nil {
				m.setFlash(err.Error(), true)
				return m, nil
			}
			m.trace.SetFilter(f)
			m.setFocus(focusTrace)
			return m, m.fetch(false)
		}
		return m, nil
	}
	return m, m.prompt.Update(msg)
}

// statusLine is the prompt when open, else the latest message, else what
// the steering keys act on.
func (m *Model) statusLine() string {
	st := m.st
	switch {
	case m.prompt.active():
		return m.prompt.View()
	case m.flash.text != "":
		if m.flash.err {
			return clip(st.FlashErr.Render(" ✗ "+m.flash.text+" "), m.width)
		}
		return clip(st.Flash.Render("» "+m.flash.text), m.width)
	}
	s, ok := m.stages.Selected()
	if !ok {
		return ""
	}
	hint := "steering " + s.Name
	if m.focus != focusStages {
		hint += " (tab to STAGES, ↑/↓ to pick another)"
	}
	return clip(st.Muted.Render(hint), m.width)
}

// helpBar is the one-line key help for the current screen and panel,
// with short descriptions; ? shows every key in full.
func (m *Model) helpBar() string {
	k := m.keys
	sh := func(b key.Binding, keys, desc string) key.Binding {
		b.SetHelp(keys, desc)
		return b
	}
	var b []key.Binding
	switch {
	case m.prompt.active():
		b = []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	case m.screen == screenHelp:
		b = []key.Binding{sh(k.Down, "↑/↓", "scroll"), sh(k.Help, "?/esc", "close help"), k.Quit}
	case m.screen == screenTimeline:
		b = []key.Binding{sh(k.Down, "↑/↓", "scroll"), k.Back, sh(k.Outage, "o", "outage"), sh(k.Help, "?", "help"), k.Quit}
	case m.screen == screenReport:
		b = []key.Binding{sh(k.Down, "↑/↓", "scroll"), sh(k.Report, "r", "dashboard"), sh(k.Help, "?", "help"), k.Quit}
	case m.screen == screenWhy:
		b = []key.Binding{sh(k.Why, "w/esc", "dashboard"), sh(k.Outage, "o", "outage"), sh(k.Help, "?", "help"), k.Quit}
	case m.focus == focusTrace:
		b = []key.Binding{sh(k.NextPanel, "tab", "panel"), sh(k.Down, "↑/↓", "move"), sh(k.Open, "enter", "timeline"),
			sh(k.Filter, "f", "filter"), sh(k.FilterType, "/", "type filter"), sh(k.Top, "g", "newest"),
			sh(k.PauseLoad, "space", "pause load"), sh(k.Help, "?", "full help"), k.Quit}
	case m.focus == focusActivity:
		b = []key.Binding{sh(k.NextPanel, "tab", "panel"), sh(k.Down, "↑/↓", "scroll"), sh(k.Outage, "o", "outage"),
			sh(k.PauseLoad, "space", "pause load"), sh(k.Help, "?", "full help"), k.Quit}
	default:
		b = []key.Binding{sh(k.NextPanel, "tab", "panel"), sh(k.Down, "↑/↓", "stage"), sh(k.WorkersUp, "+/-", "workers"),
			sh(k.Slow, "s/S", "slow/restore"), sh(k.StopStage, "x", "stop"), sh(k.Outage, "o", "outage"),
			sh(k.PauseLoad, "space", "pause load"), sh(k.StartLoad, "l", "load rate"), sh(k.Why, "w", "why"), sh(k.Help, "?", "full help"), k.Quit}
	}
	return m.help.ShortView(b, 2)
}

// splitLines splits rendered text into lines; "" is no lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
