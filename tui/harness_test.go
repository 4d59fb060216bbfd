package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"oms-sim/loadgen"
)

// harness drives a Model by hand: messages go straight into Update, and
// the test chooses which returned commands to run (ticks are never run,
// so no test sleeps).
type harness struct {
	t    *testing.T
	m    Model
	src  *fakeSource
	ctl  *fakeControl
	load *fakeLoad
}

type harnessOpt func(*harness, *Options)

func withScenario() harnessOpt {
	return func(h *harness, o *Options) {
		h.load = newFakeLoad(true)
		o.ScenarioName = "burst"
	}
}

// asWatcher makes the engine a --role none process's: no stage runs here.
func asWatcher() harnessOpt {
	return func(h *harness, _ *Options) { h.src.snap = watcherSnapshot(h.src.snap); h.load = nil }
}

func withoutLoad() harnessOpt { return func(h *harness, _ *Options) { h.load = nil } }

func newHarness(t *testing.T, w, ht int, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, src: newFakeSource(300), ctl: newFakeControl(), load: newFakeLoad(false)}
	o := Options{NoColor: true, Now: fakeNow}
	for _, f := range opts {
		f(h, &o)
	}
	var load loadgen.Controller
	if h.load != nil {
		load = h.load
	}
	h.m = New(h.src, h.ctl, load, o)
	h.send(tea.WindowSizeMsg{Width: w, Height: ht})
	h.exec(h.m.Init())
	return h
}

// send delivers msg to Update and returns the command it gave back.
func (h *harness) send(msg tea.Msg) tea.Cmd {
	h.t.Helper()
	next, cmd := h.m.Update(msg)
	h.m = next.(Model)
	return cmd
}

// exec runs a command that must not block (a fetch or a control call)
// and delivers its message; a batch comes back for the test to pick from.
func (h *harness) exec(cmd tea.Cmd) []tea.Cmd {
	h.t.Helper()
	if cmd == nil {
		h.t.Fatal("expected a command, got nil")
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		return b
	}
	h.send(msg)
	return nil
}

// press sends a key by name ("tab", "enter", "+", "P") and returns the
// resulting command.
func (h *harness) press(name string) tea.Cmd {
	h.t.Helper()
	return h.send(keyMsg(name))
}

// pressExec presses a key and runs the command it returns.
func (h *harness) pressExec(name string) {
	h.t.Helper()
	h.exec(h.press(name))
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// refresh polls as the tick would.
func (h *harness) refresh() { h.exec(h.m.fetch(false)) }

func (h *harness) view() string { return h.m.View().Content }

func keyMsg(name string) tea.KeyPressMsg {
	switch name {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: name}
}

// checkScreen fails unless view is exactly h lines of at most w cells.
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%d×%d: view has %d lines, want %d", w, h, len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("%d×%d: line %d is %d cells wide: %q", w, h, i, n, ansi.Strip(l))
		}
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}
