package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
)

func TestFilterCycleAndTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.pressExec("f")
	if h.m.focus != focusTrace {
		t.Error("f does not focus the trace")
	}
	checkStatuses(t, h, "failed", func(s engine.Status) bool { return s.Terminal() && s != engine.StatusConfirmed })
	h.pressExec("f")
	checkStatuses(t, h, "open", func(s engine.Status) bool { return !s.Terminal() })

	h.press("/")
	if !h.m.prompt.active() {
		t.Fatal("/ did not open the filter prompt")
	}
	h.m.prompt.input.SetValue("")
	h.typeText("dead_lettered")
	h.pressExec("enter")
	checkStatuses(t, h, "dead_lettered", func(s engine.Status) bool { return s == engine.StatusDeadLettered })

	h.press("/")
	h.m.prompt.input.SetValue("")
	h.typeText("bogus")
	if cmd := h.press("enter"); cmd != nil {
		t.Error("a bad filter still fetched")
	}
	if got := ansi.Strip(h.m.statusLine()); !strings.Contains(got, `unknown status "bogus"`) {
		t.Errorf("status line = %q", got)
	}

	h.press("/")
	h.m.prompt.input.SetValue("all")
	h.pressExec("enter")
	if h.m.trace.FilterLabel() != "all" || len(h.m.trace.rows) != tracePageSize {
		t.Errorf("filter %q with %d rows after all", h.m.trace.FilterLabel(), len(h.m.trace.rows))
	}
}

func checkStatuses(t *testing.T, h *harness, label string, ok func(engine.Status) bool) {
	t.Helper()
	if got := h.m.trace.FilterLabel(); got != label {
		t.Errorf("filter = %q, want %q", got, label)
	}
	if len(h.m.trace.rows) == 0 {
		t.Fatalf("filter %s shows no orders", label)
	}
	for _, r := range h.m.trace.rows {
		if !ok(r.Status) {
			t.Errorf("filter %s shows a %s order", label, r.Status)
		}
	}
	if !strings.Contains(ansi.Strip(h.view()), "filter "+label) {
		t.Errorf("title does not name filter %s", label)
	}
}

func TestEnterOpensTimelineEscReturns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.press("tab") // trace
	h.press("j")
	sel, _ := h.m.trace.Selected()
	h.pressExec("enter")
	if h.m.screen != screenTimeline {
		t.Fatal("enter did not open the timeline")
	}
	v := ansi.Strip(h.view())
	for _, want := range []string{sel.OrderID, "OFFSET", "accepted", "+0", "time in stage"} {
		if !strings.Contains(v, want) {
			t.Errorf("timeline lacks %q:\n%s", want, v)
		}
	}
	h.refresh() // the open order refreshes with each poll
	if h.m.timeline.rec.OrderID != sel.OrderID || !h.m.timeline.loaded {
		t.Error("poll did not refresh the open order")
	}
	h.press("esc")
	if h.m.screen != screenMain {
		t.Error("esc did not return to the dashboard")
	}
}

func TestTraceFreezesAndFollows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 140, 45)
	h.press("tab")
	if !h.m.trace.live {
		t.Fatal("trace does not start live")
	}
	h.press("down")
	if h.m.trace.live {
		t.Fatal("moving down did not freeze the page")
	}
	first := h.m.trace.rows[0].OrderID
	// New orders arrive; a frozen page keeps its rows.
	h.src.mu.Lock()
	newest := fakeOrder(100000)
	h.src.orders = append([]engine.OrderRecord{newest}, h.src.orders...)
	h.src.byID = map[string]int{}
	for i, r := range h.src.orders {
		h.src.byID[r.OrderID] = i
	}
	h.src.mu.Unlock()
	h.refresh()
	if h.m.trace.rows[0].OrderID != first {
		t.Error("frozen page moved")
	}
	// Paging past the loaded rows asks for more.
	for i := 0; i < tracePageSize; i++ {
		if cmd := h.press("down"); cmd != nil {
			h.exec(cmd)
		}
	}
	if len(h.m.trace.rows) <= tracePageSize {
		t.Errorf("scrolling to the end loaded no more rows (%d)", len(h.m.trace.rows))
	}
	h.pressExec("g")
	if !h.m.trace.live || h.m.trace.rows[0].OrderID != newest.OrderID {
		t.Error("g does not follow the newest order")
	}
}
