package tui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oms-sim/engine"
)

// promptKind says what the inline prompt asks for.
type promptKind int

const (
	promptNone promptKind = iota
	promptRate
	promptFilter
	promptBacklog
)

// prompt is the one-line input in the status line: a load rate (l) or a
// status filter (/). Enter submits, esc cancels.
type prompt struct {
	st    *Styles
	kind  promptKind
	input textinput.Model
	width int
}

func newPrompt(st *Styles) prompt {
	in := textinput.New()
	in.CharLimit = 64
	s := in.Styles()
	s.Focused.Prompt = st.Prompt
	s.Focused.Text = st.Text
	s.Focused.Placeholder = st.Muted
	s.Focused.Suggestion = st.Muted
	s.Blurred = s.Focused
	in.SetStyles(s)
	return prompt{st: st, input: in}
}

func (p *prompt) SetWidth(w int) {
	p.width = w
	p.input.SetWidth(max(w-lipgloss.Width(p.input.Prompt)-1, 1))
}

func (p *prompt) active() bool { return p.kind != promptNone }

// Open starts asking.
func (p *prompt) Open(kind promptKind, value string) tea.Cmd {
	p.kind = kind
	switch kind {
	case promptRate:
		p.input.Prompt = "load rate (orders/s, 0 stops): "
		p.input.Placeholder = "e.g. 200"
		p.input.ShowSuggestions = false
	case promptBacklog:
		p.input.Prompt = "max backlog (ready messages above which POST /api/orders answers 503; 0 = off): "
		p.input.Placeholder = "e.g. 2000"
		p.input.ShowSuggestions = false
	case promptFilter:
		p.input.Prompt = "show statuses (comma-separated, empty for all): "
		p.input.Placeholder = "failed"
		p.input.SetSuggestions(filterWords())
		p.input.ShowSuggestions = true
	}
	p.input.SetValue(value)
	p.input.CursorEnd()
	p.SetWidth(p.width)
	return p.input.Focus()
}

// Close stops asking and returns what was asked and the text typed.
func (p *prompt) Close() (promptKind, string) {
	k, v := p.kind, strings.TrimSpace(p.input.Value())
	p.kind = promptNone
	p.input.Blur()
	p.input.Reset()
	return k, v
}

// Update passes a message on to the text input.
func (p *prompt) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *prompt) View() string { return clip(p.input.View(), p.width) }

// filterWords are the statuses a filter can name.
func filterWords() []string {
	w := []string{"all", "failed", "open"}
	for _, s := range engine.Statuses {
		w = append(w, string(s))
	}
	return w
}

// parseFilter reads a typed status filter: statuses separated by commas
// or spaces; "all" or nothing shows every order. "declined" and "dead"
// are accepted for payment_failed and dead_lettered.
func parseFilter(s string) ([]engine.Status, error) {
	valid := map[string]engine.Status{"failed": "failed", "open": "open",
		"declined": engine.StatusPaymentFailed, "dead": engine.StatusDeadLettered}
	for _, st := range engine.Statuses {
		valid[string(st)] = st
	}
	var out []engine.Status
	var errs []error
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' }) {
		if f == "all" {
			return nil, nil
		}
		st, ok := valid[f]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown status %q (valid: %s)", f, strings.Join(filterWords(), ", ")))
			continue
		}
		out = append(out, st)
	}
	return out, errors.Join(errs...)
}

// parseK reads a non-negative number with an optional "k" (×1000)
// suffix, as typed at a prompt: "200", "1.5k".
func parseK(t string) (float64, bool) {
	mult := 1.0
	if strings.HasSuffix(t, "k") {
		t, mult = strings.TrimSuffix(t, "k"), 1000
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || v < 0 {
		return 0, false
	}
	return v * mult, true
}

// parseBacklog reads a backlog bound: a whole number, "5k", or "off".
func parseBacklog(s string) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if t == "off" {
		return 0, nil
	}
	v, ok := parseK(t)
	if !ok || v > 1e9 || v != math.Trunc(v) {
		return 0, fmt.Errorf("max backlog %q: want a whole number of messages, like 2000 or 5k, or 0/off", s)
	}
	return int(v), nil
}

// parseRate reads a typed load rate: "200", "200/s", "1.5k".
func parseRate(s string) (float64, error) {
	v, ok := parseK(strings.TrimSuffix(strings.TrimSpace(strings.ToLower(s)), "/s"))
	if !ok || v > 1e6 {
		return 0, fmt.Errorf("rate %q: want orders per second from 0 to 1000000, like 200 or 200/s", s)
	}
	return v, nil
}
