package tui

import (
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Golden files hold the final frame of a real tea.Program run by teatest
// at a fixed size, colour profile (ASCII: no colour, as with NO_COLOR) and
// clock, over a deterministic fake engine. Refresh them with
//
//	go test ./tui/ -run Golden -update

// watched wraps the Model so a test can wait for a state of the running
// program (the renderer only writes changed cells, so waiting for text in
// the output is unreliable). Only copies are shared: each Update stores
// the model it returns.
type watched struct {
	Model
	last *atomic.Pointer[Model]
}

func (w watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := w.Model.Update(msg)
	m := next.(Model)
	w.last.Store(&m)
	return watched{m, w.last}, cmd
}

type goldenRun struct {
	*teatest.TestModel
	last *atomic.Pointer[Model]
}

func goldenProgram(t *testing.T, w, h int) goldenRun {
	t.Helper()
	return goldenProgramOf(t, w, h, New(newFakeSource(300), newFakeControl(), newFakeLoad(true),
		Options{ScenarioName: "burst", NoColor: true, Now: fakeNow, RefreshInterval: 50 * time.Millisecond}))
}

func goldenProgramOf(t *testing.T, w, h int, m Model) goldenRun {
	t.Helper()
	r := goldenRun{last: new(atomic.Pointer[Model])}
	r.TestModel = teatest.NewTestModel(t, watched{m, r.last},
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ASCII)))
	r.waitFor(t, "the first poll", func(m *Model) bool { return m.hasSnap && m.width == w })
	return r
}

// waitFor waits until the running model satisfies cond; cond may read
// only the model's own fields, not what its slices share.
func (r goldenRun) waitFor(t *testing.T, what string, cond func(*Model) bool) {
	t.Helper()
	if !waitFor(5*time.Second, func() bool { m := r.last.Load(); return m != nil && cond(m) }) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// requireGoldenFrame quits r and fails unless its final frame is a
// w×h screen equal to the test's golden file.
func requireGoldenFrame(t *testing.T, r goldenRun, w, h int) {
	t.Helper()
	frame := finalFrame(t, r)
	checkScreen(t, frame, w, h)
	golden.RequireEqual(t, frame)
}

func finalFrame(t *testing.T, r goldenRun) string {
	t.Helper()
	if err := r.Quit(); err != nil {
		t.Fatal(err)
	}
	w, ok := r.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(watched)
	if !ok {
		t.Fatal("final model is not the watched tui.Model")
	}
	v := w.View()
	if !v.AltScreen {
		t.Error("the root view does not ask for the alternate screen")
	}
	return v.Content
}

func TestGoldenMain(t *testing.T) {
	tm := goldenProgram(t, 140, 45)
	requireGoldenFrame(t, tm, 140, 45)
}

func TestGoldenMainCompact(t *testing.T) {
	tm := goldenProgram(t, 80, 24)
	requireGoldenFrame(t, tm, 80, 24)
}

func TestGoldenTimeline(t *testing.T) {
	tm := goldenProgram(t, 140, 45)
	// A dead-lettered order: its timeline shows the retries.
	tm.Send(keyMsg("/"))
	tm.Type("dead")
	tm.Send(keyMsg("enter"))
	tm.waitFor(t, "the filtered page", func(m *Model) bool { return m.trace.total == 3 && m.trace.FilterLabel() == "dead_lettered" })
	tm.Send(keyMsg("enter"))
	tm.waitFor(t, "the timeline", func(m *Model) bool { return m.screen == screenTimeline && m.timeline.loaded })
	requireGoldenFrame(t, tm, 140, 45)
}

// TestGoldenWatcher is a --role none dashboard: the stages run in other
// processes, their figures from the event stream, no load generator.
func TestGoldenWatcher(t *testing.T) {
	src := newFakeSource(300)
	src.snap = watcherSnapshot(src.snap)
	tm := goldenProgramOf(t, 140, 45, New(src, newFakeControl(), nil,
		Options{NoColor: true, Now: fakeNow, RefreshInterval: 50 * time.Millisecond}))
	requireGoldenFrame(t, tm, 140, 45)
}

func TestGoldenHelp(t *testing.T) {
	tm := goldenProgram(t, 140, 45)
	tm.Send(keyMsg("?"))
	tm.waitFor(t, "the help", func(m *Model) bool { return m.screen == screenHelp })
	requireGoldenFrame(t, tm, 140, 45)
}
