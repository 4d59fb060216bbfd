package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

func TestStageKeysCallControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string // the last one's command is run
		want string
	}{
		{"workers up", []string{"+"}, "update dashboard payment workers=5"},
		{"workers up with =", []string{"="}, "update dashboard payment workers=5"},
		{"workers down", []string{"-"}, "update dashboard payment workers=3"},
		{"prefetch up", []string{"p"}, "update dashboard payment prefetch=40"},
		{"prefetch down", []string{"P"}, "update dashboard payment prefetch=10"},
		{"slow lognormal", []string{"s"}, "update dashboard payment service=lognormal:8ms,60ms"},
		{"slow zero service time", []string{"down", "s"}, "update dashboard inventory service=50ms"},
		{"error up", []string{"e"}, "update dashboard payment error=0.1"},
		{"error down floors at 0", []string{"E"}, "update dashboard payment error=0"},
		{"error down from 0.1", []string{"down", "down", "E"}, "update dashboard email error=0"},
		{"decline up", []string{"d"}, "update dashboard payment decline=0.1"},
		{"decline goes to payment whatever is selected", []string{"down", "D"}, "update dashboard payment decline=0"},
		{"stop stage", []string{"down", "x"}, "pause dashboard inventory"},
		{"selection stays in range", []string{"down", "down", "down", "down", "+"}, "update dashboard email workers=3"},
		{"up from the top stays", []string{"up", "k", "+"}, "update dashboard payment workers=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 140, 45)
			var cmd tea.Cmd
			for _, k := range tt.keys {
				cmd = h.press(k)
			}
			h.exec(cmd)
			calls := h.ctl.Calls()
			if len(calls) != 1 || calls[0] != tt.want {
				t.Errorf("calls = %q, want [%q]", calls, tt.want)
			}
		})
	}
}

func TestRemoteStageIsNotSteeredHere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45, asWatcher())
	for _, k := range []string{"+", "s", "x", "d"} {
		if cmd := h.press(k); cmd != nil {
			h.exec(cmd)
		}
	}
	if calls := h.ctl.Calls(); len(calls) != 0 {
		t.Errorf("steering a stage run elsewhere called the control: %q", calls)
	}
	if v := ansi.Strip(h.view()); !strings.Contains(v, "payment runs in other processes") {
		t.Errorf("no word on why the keys did nothing:\n%s", v)
	}
}

func TestStageChangeShowsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	cmd := h.press("+")
	// Before the control call even returns, the panel shows 4/5.
	if !strings.Contains(ansi.Strip(h.view()), "4/5") {
		t.Errorf("workers change not shown at once:\n%s", ansi.Strip(h.view()))
	}
	// A poll already on its way carries the old figure: it must not win.
	stale := h.m.fetch(false)
	h.m.markStale()
	h.exec(stale)
	if !strings.Contains(ansi.Strip(h.view()), "4/5") {
		t.Error("a stale poll reverted the workers change")
	}
	h.exec(cmd)
	if got := ansi.Strip(h.m.statusLine()); !strings.Contains(got, "payment workers → 5") {
		t.Errorf("status line = %q", got)
	}
}

func TestSlowThenRestore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.pressExec("s")
	h.pressExec("s")
	h.pressExec("S")
	want := []string{
		"update dashboard payment service=lognormal:8ms,60ms",
		// the second s doubles what the first set (shown at once)
		"update dashboard payment service=lognormal:16ms,120ms",
		"update dashboard payment service=lognormal:4ms,30ms",
	}
	if got := h.ctl.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q\nwant    %q", got, want)
	}
	if cmd := h.press("S"); cmd != nil {
		t.Error("S with nothing to restore called the engine")
	}
}

func TestOutageRestoresDeclineRate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	batch := h.exec(h.press("o"))
	if len(batch) != 2 {
		t.Fatalf("o gave %d commands, want the update and the restore tick", len(batch))
	}
	h.exec(batch[0])
	if !strings.Contains(ansi.Strip(h.view()), "payment outage") {
		t.Error("header does not announce the outage")
	}
	// A second o extends the outage: the first restore tick is void.
	h.exec(h.exec(h.press("o"))[0])
	if cmd := h.send(outageEndMsg{gen: 1}); cmd != nil {
		t.Error("a superseded outage's restore tick acted")
	}
	h.exec(h.send(outageEndMsg{gen: 2}))
	want := []string{
		"update dashboard payment decline=1",
		"update dashboard payment decline=1",
		"update dashboard payment decline=0.02",
	}
	if got := h.ctl.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q\nwant    %q", got, want)
	}
	if h.m.outage != nil {
		t.Error("outage still marked after its end")
	}
}

func TestStopResumeStage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.pressExec("x")
	if !strings.Contains(ansi.Strip(h.view()), "stopped") {
		t.Error("stopped stage not shown")
	}
	h.pressExec("x")
	want := []string{"pause dashboard payment", "resume dashboard payment"}
	if got := h.ctl.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.pressExec("space")
	h.press("l")
	if !h.m.prompt.active() {
		t.Fatal("l did not open the rate prompt")
	}
	h.typeText("200/s")
	h.pressExec("enter")
	h.src.setSnapshot(fakeSnapshot())
	h.load.setProgress(loadgen.Progress{State: loadgen.StateRunning, Manual: true, TargetRate: 200, AchievedRate: 199})
	h.refresh()
	h.pressExec("]")
	h.pressExec("[")
	want := []string{"pause", "rate 200", "rate 400", "rate 100"}
	if got := h.load.Calls(); !slices.Equal(got, want) {
		t.Errorf("load calls = %q, want %q", got, want)
	}
	if got := h.ctl.Calls(); !slices.Contains(got, "note dashboard load paused") {
		t.Errorf("pause not noted in the change log: %q", got)
	}
	h.press("l")
	h.typeText("fast")
	h.press("enter")
	if got := ansi.Strip(h.m.statusLine()); !strings.Contains(got, "want orders per second") {
		t.Errorf("bad rate status = %q", got)
	}
}

func TestLoadKeysHidden(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45, withScenario())
	if h.m.keys.StartLoad.Enabled() || h.m.keys.RateUp.Enabled() || !h.m.keys.PauseLoad.Enabled() {
		t.Error("with a scenario, l and [ ] must be off and space on")
	}
	if cmd := h.press("l"); cmd != nil || h.m.prompt.active() {
		t.Error("l acted during a scenario")
	}
	n := newHarness(t, 140, 45, withoutLoad())
	if n.m.keys.PauseLoad.Enabled() || n.m.keys.StartLoad.Enabled() {
		t.Error("load keys on without a load generator")
	}
	if strings.Contains(ansi.Strip(n.m.helpBar()), "pause") {
		t.Error("help bar shows load keys without a load generator")
	}
}

func TestQuitKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"q", "ctrl+c"} {
		h := newHarness(t, 80, 24)
		if !isQuit(h.press(k)) {
			t.Errorf("%s does not quit", k)
		}
	}
	// ctrl+c quits even with the prompt open; q is typed into it.
	h := newHarness(t, 80, 24)
	h.press("l")
	if isQuit(h.press("q")) {
		t.Error("q quit while typing a rate")
	}
	if !isQuit(h.press("ctrl+c")) {
		t.Error("ctrl+c does not quit from the prompt")
	}
}

func TestHelpToggles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 80, 24)
	h.press("?")
	if h.m.screen != screenHelp || !strings.Contains(ansi.Strip(h.view()), "HELP") {
		t.Fatal("? does not open the full help")
	}
	h.press("?")
	if h.m.screen != screenMain {
		t.Error("? does not close the help")
	}
}

func TestFinalReportShown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 100, 30, withScenario())
	h.load.setProgress(loadgen.Progress{State: loadgen.StateDone, Scenario: "burst", Passed: true,
		ReportText: "scenario burst: 42345 accepted, 0 lost, 0 duplicated\nthresholds: e2e_p99 380ms ≤ 500ms ✓"})
	h.refresh()
	v := ansi.Strip(h.view())
	if h.m.screen != screenReport || !strings.Contains(v, "0 lost") || !strings.Contains(v, "FINAL REPORT") {
		t.Fatalf("report not shown:\n%s", v)
	}
	h.press("r")
	if h.m.screen != screenMain {
		t.Error("r does not go back to the dashboard")
	}
	h.refresh()
	if h.m.screen != screenMain {
		t.Error("the report reopened on its own")
	}
	h.press("r")
	if h.m.screen != screenReport {
		t.Error("r does not reopen the report")
	}
}

func TestScenarioChangesFlash(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	s := fakeSnapshot()
	s.Changes = append([]engine.Change{{Time: t0.Add(94 * time.Second), Source: "scenario", Text: "inventory stopped for 5s"}}, s.Changes...)
	h.src.setSnapshot(s)
	h.refresh()
	if got := ansi.Strip(h.m.statusLine()); !strings.Contains(got, "scenario: inventory stopped for 5s") {
		t.Errorf("status line = %q", got)
	}
	if v := ansi.Strip(h.view()); !strings.Contains(v, "inventory stopped for 5s") {
		t.Error("change not in the changes panel")
	}
}

func TestBottleneckMarked(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {140, 45}} {
		h := newHarness(t, size[0], size[1])
		v := ansi.Strip(h.view())
		if !strings.Contains(v, "▲ payment") || !strings.Contains(v, "bottleneck: payment — utilisation 93%") {
			t.Errorf("%v: bottleneck not marked:\n%s", size, v)
		}
	}
}

func TestDisconnectedHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	s := fakeSnapshot()
	s.Broker.Connected, s.Broker.Reconnects, s.Broker.LastError = false, 3, "dial tcp: connection refused"
	h.src.setSnapshot(s)
	h.refresh()
	v := ansi.Strip(h.view())
	if !strings.Contains(v, "reconnecting (3)") || !strings.Contains(v, "connection refused") {
		t.Errorf("header does not show the lost connection:\n%s", v)
	}
}

func TestResizeNeverOverflows(t *testing.T) {
	t.Parallel()
	sizes := [][2]int{{80, 24}, {140, 45}, {100, 30}, {120, 40}, {200, 60}, {80, 45}, {160, 24}, {60, 15}, {40, 10}, {20, 5}}
	screens := []struct {
		name string
		keys []string
	}{
		{"main", nil},
		{"trace focus", []string{"tab", "down", "down"}},
		{"errors focus", []string{"shift+tab"}},
		{"timeline", []string{"tab", "enter"}},
		{"help", []string{"?"}},
		{"prompt", []string{"/"}},
		{"outage", []string{"o"}},
	}
	for _, sc := range screens {
		for _, size := range sizes {
			h := newHarness(t, size[0], size[1], withScenario())
			for _, k := range sc.keys {
				if cmd := h.press(k); cmd != nil && k == "enter" {
					h.exec(cmd)
				}
			}
			// Resize after the fact as well: the layout must follow.
			h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			t.Run(sc.name, func(t *testing.T) { checkScreen(t, h.view(), size[0], size[1]) })
		}
	}
}

func TestCompactLayoutKeepsEssentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 80, 24, withScenario())
	v := ansi.Strip(h.view())
	for _, want := range []string{"oms-sim", "connected", "burst", "QUEUES", "oms.dead", "STAGES", "E2E", "ORDERS", "? full help"} {
		if !strings.Contains(v, want) {
			t.Errorf("80×24 lacks %q:\n%s", want, v)
		}
	}
	h.press("tab")
	h.press("tab") // errors take the bottom when focused
	if v := ansi.Strip(h.view()); !strings.Contains(v, "ERRORS & DEAD LETTERS") || !strings.Contains(v, "max attempts") {
		t.Errorf("errors panel not shown when focused at 80×24:\n%s", v)
	}
}

func TestNoColorHasNoColour(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	v := h.view()
	// SGR colour parameters: 3x/4x (16 colours), 38;/48; (256 and true).
	for _, bad := range []string{"[38;", "[48;", ";38;", ";48;"} {
		if strings.Contains(v, bad) {
			t.Fatalf("NO_COLOR view contains a colour sequence %q", bad)
		}
	}
}

func TestBeforeFirstPoll(t *testing.T) {
	t.Parallel()
	m := New(newFakeSource(0), nil, nil, Options{NoColor: true, Now: fakeNow})
	for _, size := range [][2]int{{80, 24}, {140, 45}} {
		next, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := next.(Model).View().Content
		checkScreen(t, v, size[0], size[1])
		if !strings.Contains(ansi.Strip(v), "connecting…") {
			t.Errorf("%v: no sign of waiting for data:\n%s", size, ansi.Strip(v))
		}
	}
	// Read-only (no Control): steering keys say so instead of acting.
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, cmd := next.(Model).Update(keyMsg("+"))
	ro := next.(Model)
	if cmd != nil || strings.Contains(ansi.Strip(ro.helpBar()), "workers") {
		t.Error("+ acted, or is offered, without a Control")
	}
}

func TestHeaderStates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	s := fakeSnapshot()
	s.Broker = engine.BrokerStatus{Kind: "embedded", QueueType: "classic", Connected: true,
		Note: "RabbitMQ at localhost:5672 did not answer: using the embedded broker"}
	h.src.setSnapshot(s)
	h.refresh()
	v := ansi.Strip(h.view())
	for _, want := range []string{"broker embedded", "⚠ RabbitMQ at localhost:5672 did not answer", "no load — press l"} {
		if !strings.Contains(v, want) {
			t.Errorf("header lacks %q:\n%s", want, v)
		}
	}
	h.load.setProgress(loadgen.Progress{State: loadgen.StateRunning, Manual: true, TargetRate: 50, AchievedRate: 20, Paused: true})
	h.refresh()
	if v := ansi.Strip(h.view()); !strings.Contains(v, "manual load") || !strings.Contains(v, "⏸ load paused") {
		t.Errorf("manual paused load not shown:\n%s", v)
	}
}

// TestBacklogKeyAndShedding: b asks for the API's backlog bound and sets
// it; while the API sheds, the header says so at both sizes.
func TestBacklogKeyAndShedding(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.press("b")
	if !h.m.prompt.active() {
		t.Fatal("b did not open the backlog prompt")
	}
	h.typeText("2k")
	h.pressExec("enter")
	h.press("b")
	h.typeText("off")
	h.pressExec("enter")
	want := []string{"max-backlog dashboard 2000", "max-backlog dashboard 0"}
	if got := h.ctl.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	// With a bound in force, typing replaces it (it is only shown).
	s := fakeSnapshot()
	s.Admission.MaxBacklog = 200
	h.src.setSnapshot(s)
	h.refresh()
	h.press("b")
	h.typeText("0")
	h.pressExec("enter")
	if got := h.ctl.Calls(); len(got) != 3 || got[2] != "max-backlog dashboard 0" {
		t.Errorf("calls = %q, want the third to set 0, not 2000", got)
	}
	h.press("b")
	h.typeText("lots")
	h.press("enter")
	if got := ansi.Strip(h.m.statusLine()); !strings.Contains(got, "whole number of messages") {
		t.Errorf("bad backlog status = %q", got)
	}
	for _, size := range [][2]int{{80, 24}, {140, 45}} {
		h := newHarness(t, size[0], size[1])
		s := fakeSnapshot()
		s.Admission = engine.AdmissionStatus{MaxBacklog: 10000, Backlog: 12345, Shedding: true, Shed: 77}
		h.src.setSnapshot(s)
		h.refresh()
		want := "shedding: backlog 12345 > 10000"
		if size[0] < 100 {
			want = "shedding 12345>10000"
		}
		if v := ansi.Strip(h.view()); !strings.Contains(v, want) {
			t.Errorf("%v: header does not show shedding:\n%s", size, v)
		}
	}
}

// TestLimitElsewhereShown: when no stage is the bottleneck but the load
// generator judges the broker the limit, the stages panel says so.
func TestLimitElsewhereShown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	s := fakeSnapshot()
	for i := range s.Stages {
		s.Stages[i].Bottleneck, s.Stages[i].Reason = false, ""
	}
	h.src.setSnapshot(s)
	h.load.setProgress(loadgen.Progress{State: loadgen.StateRunning, Manual: true, TargetRate: 4000, AchievedRate: 2000,
		Limit: loadgen.Limit{Kind: loadgen.LimitBroker, Evidence: "publish confirms p99 420ms while every stage has spare workers"}})
	h.refresh()
	if v := ansi.Strip(h.view()); !strings.Contains(v, "▲ limit: the broker — publish confirms p99 420ms") {
		t.Errorf("the broker limit is not shown:\n%s", v)
	}
}

// TestNoticeAndPhaseBothShow (issue 11): the embedded broker's notice
// shrinks to one short line and the running phase's text still shows,
// wrapped, at both sizes; ? has the notice in full.
func TestNoticeAndPhaseBothShow(t *testing.T) {
	t.Parallel()
	const note = "EMBEDDED BROKER: no RabbitMQ at amqp://guest:***@localhost:5672/ (dial tcp 127.0.0.1:5672: connect: connection refused); messages live in this process only"
	const phase = "250 orders/s is more than payment's two workers can take. Watch oms.payment grow and payment's utilisation pass 100%."
	for _, size := range [][2]int{{140, 45}, {80, 24}} {
		h := newHarness(t, size[0], size[1])
		s := fakeSnapshot()
		s.Broker = engine.BrokerStatus{Kind: "embedded", QueueType: "classic", Connected: true, Note: note}
		h.src.setSnapshot(s)
		h.load.setProgress(loadgen.Progress{State: loadgen.StateRunning, Scenario: "tour", Phase: "rush", Phases: 7, PhaseIndex: 1,
			PhaseDescription: phase, TargetRate: 250, AchievedRate: 250})
		h.refresh()
		v := ansi.Strip(h.view())
		checkScreen(t, v, size[0], size[1])
		for _, want := range []string{"⚠ embedded broker — no RabbitMQ at localhost:5672", "▸ 250 orders/s", "100%."} {
			if !strings.Contains(v, want) {
				t.Errorf("%v: screen lacks %q:\n%s", size, want, v)
			}
		}
		if strings.Contains(v, "dial tcp") {
			t.Errorf("%v: the header shows the dial error; it belongs to the log and ?:\n%s", size, v)
		}
		h.press("?")
		seen := ansi.Strip(h.view())
		for range 40 { // a small terminal scrolls the help
			h.press("down")
			seen += ansi.Strip(h.view())
		}
		for _, want := range []string{"connection refused", "GLOSSARY", "unacked", "dead letter"} {
			if !strings.Contains(seen, want) {
				t.Errorf("%v: ? lacks %q:\n%s", size, want, seen)
			}
		}
	}
}

func TestShortNote(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"EMBEDDED BROKER: no RabbitMQ at amqp://guest:***@rabbit:5673/ (dial tcp: refused); messages live in this process only", "embedded broker — no RabbitMQ at rabbit:5673"},
		{"embedded broker (--broker embedded)", "embedded broker (--broker embedded)"},
		{"event log in memory (why)", "event log in memory"},
	} {
		if got := shortNote(c.in); got != c.want {
			t.Errorf("shortNote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
