package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the dashboard answers to. bubbles/help renders it,
// so the help bar and the full help (?) never disagree with what the keys
// do. Bindings that do not apply (no load generator, a scenario running)
// are disabled and vanish from the help.
type KeyMap struct {
	NextPanel, PrevPanel key.Binding
	Up, Down             key.Binding
	PageUp, PageDown     key.Binding
	Top                  key.Binding
	Open, Back           key.Binding

	WorkersUp, WorkersDown   key.Binding
	PrefetchUp, PrefetchDown key.Binding
	Slow, Restore            key.Binding
	ErrorUp, ErrorDown       key.Binding
	DeclineUp, DeclineDown   key.Binding
	StopStage                key.Binding
	Outage                   key.Binding
	Backlog                  key.Binding

	PauseLoad key.Binding
	StartLoad key.Binding
	RateDown  key.Binding
	RateUp    key.Binding

	Filter     key.Binding
	FilterType key.Binding

	Report     key.Binding
	Why        key.Binding
	BrokerView key.Binding
	Help       key.Binding
	Quit       key.Binding
}

// DefaultKeyMap returns the dashboard's keys.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		NextPanel: b([]string{"tab"}, "tab", "next panel"),
		PrevPanel: b([]string{"shift+tab"}, "shift+tab", "previous panel"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:       b([]string{"g", "home"}, "g", "newest / top (follow live)"),
		Open:      b([]string{"enter"}, "enter", "open order timeline"),
		Back:      b([]string{"esc"}, "esc", "back"),

		WorkersUp:    b([]string{"+", "="}, "+", "add a worker"),
		WorkersDown:  b([]string{"-", "_"}, "-", "remove a worker"),
		PrefetchUp:   b([]string{"p"}, "p", "prefetch ×2"),
		PrefetchDown: b([]string{"P"}, "P", "prefetch ÷2"),
		Slow:         b([]string{"s"}, "s", "slow: service time ×2"),
		Restore:      b([]string{"S"}, "S", "restore service time"),
		ErrorUp:      b([]string{"e"}, "e", "error rate +0.1"),
		ErrorDown:    b([]string{"E"}, "E", "error rate −0.1"),
		DeclineUp:    b([]string{"d"}, "d", "payment decline +0.1"),
		DeclineDown:  b([]string{"D"}, "D", "payment decline −0.1"),
		StopStage:    b([]string{"x"}, "x", "stop / resume stage"),
		Outage:       b([]string{"o"}, "o", "payment outage (10s)"),
		Backlog:      b([]string{"b"}, "b", "max backlog (API sheds above it)"),

		PauseLoad: b([]string{"space"}, "space", "pause / resume load"),
		StartLoad: b([]string{"l"}, "l", "set load rate"),
		RateDown:  b([]string{"["}, "[", "load rate down"),
		RateUp:    b([]string{"]"}, "]", "load rate up"),

		Filter:     b([]string{"f"}, "f", "cycle status filter"),
		FilterType: b([]string{"/"}, "/", "type a status filter"),

		Report:     b([]string{"r"}, "r", "report / dashboard"),
		Why:        b([]string{"w"}, "w", "why: predicted vs measured wait"),
		BrokerView: b([]string{"m"}, "m", "queues as the broker counts them (management API)"),
		Help:       b([]string{"?"}, "?", "full help"),
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// helpGroup is one titled column of the full help.
type helpGroup struct {
	title string
	keys  []key.Binding
}

// fullHelp groups every binding for the full help screen.
func (k KeyMap) fullHelp() []helpGroup {
	return []helpGroup{
		{"Move", []key.Binding{k.NextPanel, k.PrevPanel, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Open, k.Back}},
		{"Selected stage", []key.Binding{k.WorkersUp, k.WorkersDown, k.PrefetchUp, k.PrefetchDown, k.Slow, k.Restore, k.ErrorUp, k.ErrorDown, k.StopStage}},
		{"Faults and load", []key.Binding{k.Outage, k.DeclineUp, k.DeclineDown, k.Backlog, k.PauseLoad, k.StartLoad, k.RateDown, k.RateUp}},
		{"Trace and more", []key.Binding{k.Filter, k.FilterType, k.Report, k.Why, k.BrokerView, k.Help, k.Quit}},
	}
}

// ShortHelp implements help.KeyMap with the bar shown on the main screen.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextPanel, k.WorkersUp, k.WorkersDown, k.Slow, k.Outage, k.PauseLoad, k.StartLoad, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, g := range k.fullHelp() {
		out = append(out, g.keys)
	}
	return out
}
