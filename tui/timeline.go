package tui

import (
	"fmt"
	"strings"
	"time"

	"oms-sim/engine"
)

// timelineView is one order's life: its fields, the time spent in each
// stage, and every event with its offset from acceptance, stage, worker
// and detail. It refreshes while open, so an order still in flight moves
// on as you watch.
type timelineView struct {
	st            *Styles
	width, height int
	id            string
	rec           engine.OrderRecord
	found         bool
	loaded        bool
	scroll        int
	now           time.Time
}

func newTimelineView(st *Styles) timelineView { return timelineView{st: st} }

func (v *timelineView) SetSize(w, h int) { v.width, v.height = w, h }

// Open starts showing order id; rec is what the trace already knows.
func (v *timelineView) Open(rec engine.OrderRecord) {
	v.id, v.rec, v.found, v.loaded, v.scroll = rec.OrderID, rec, true, false, 0
}

// apply takes a fresh copy of the order from a poll.
func (v *timelineView) apply(d dataMsg, now time.Time) {
	v.now = now
	if d.req.orderID != v.id || v.id == "" {
		return
	}
	v.loaded = true
	if d.orderOK {
		v.rec, v.found = d.order, true
	} else if len(v.rec.Events) == 0 {
		v.found = false
	}
}

// Scroll moves the event list.
func (v *timelineView) Scroll(delta int) {
	v.scroll = min(max(v.scroll+delta, 0), max(len(v.rec.Events)-v.eventRows(), 0))
}

// fixedLines is how many lines come before the event rows.
const timelineFixedLines = 6

func (v *timelineView) eventRows() int { return max(v.height-timelineFixedLines, 1) }

var timelineCols = []column{
	{title: "OFFSET", width: 9, right: true},
	{title: "EVENT", width: 17}, // inventory.started
	{title: "STAGE", width: 9},
	{title: "WORKER", width: 12},
	{title: "AT", width: 12, drop: 2},
	{title: "DETAIL", width: 10, flex: true},
}

// View draws the timeline.
func (v *timelineView) View() string {
	st := v.st
	r := &v.rec
	if !v.found {
		return block([]string{
			st.TitleFocus.Render(" ORDER " + v.id + " "),
			"",
			st.Warn.Render("  this order is no longer in the trace store (it keeps the most recent orders only)"),
		}, v.width, v.height)
	}
	e2e := "in flight"
	if r.Status.Terminal() {
		e2e = "e2e " + fmtDur(r.Latency)
	} else if !r.AcceptedAt.IsZero() && !v.now.IsZero() {
		e2e = "in flight for " + fmtDur(v.now.Sub(r.AcceptedAt))
	}
	lines := []string{
		st.TitleFocus.Render(" ORDER "+r.OrderID+" ") + "  " +
			st.Status(r.Status).Render(statusSymbol(r.Status)+" "+string(r.Status)) + "  " + st.Text.Render(e2e),
		st.Muted.Render("  product ") + st.Text.Render(fmt.Sprint(r.ProductID)) +
			st.Muted.Render("  quantity ") + st.Text.Render(fmt.Sprint(r.Quantity)) +
			st.Muted.Render("  user ") + st.Text.Render(fmt.Sprint(r.UserID)) +
			st.Muted.Render("  amount ") + st.Text.Render(fmtCents(r.AmountCents)) +
			st.Muted.Render("  accepted ") + st.Text.Render(fmtTime(r.AcceptedAt)),
		"  " + v.stageTimes(),
	}
	if r.Reason != "" {
		lines = append(lines, st.Warn.Render("  reason: "+r.Reason))
	} else {
		lines = append(lines, "")
	}
	ws := layoutColumns(timelineCols, v.width-gutter)
	lines = append(lines, "", st.Title.Render("  "+headerRow(timelineCols, ws)))
	base := r.AcceptedAt
	if base.IsZero() && len(r.Events) > 0 {
		base = r.Events[0].Time
	}
	rows := v.eventRows()
	start := min(v.scroll, max(len(r.Events)-rows, 0))
	for i := start; i < len(r.Events) && i < start+rows; i++ {
		ev := r.Events[i]
		style := st.Text
		switch ev.Type {
		case engine.EventDeclined, engine.EventOutOfStock, engine.EventRefunded, engine.EventRetried:
			style = st.Warn
		case engine.EventDeadLettered:
			style = st.Bad
		case engine.EventConfirmed:
			style = st.Good
		case engine.StartedEvent(ev.Stage):
			style = st.Muted // a worker took it: the outcome follows
		}
		lines = append(lines, "  "+row(timelineCols, ws, []string{
			st.Muted.Render(fmtOffset(ev.Time.Sub(base))),
			style.Render(ev.Type),
			st.Text.Render(ev.Stage),
			st.Muted.Render(ev.Worker),
			st.Muted.Render(fmtTime(ev.Time)),
			st.Text.Render(ev.Detail),
		}))
	}
	if len(r.Events) == 0 {
		lines = append(lines, st.Muted.Render("  no events recorded"))
	}
	if more := len(r.Events) - (start + rows); more > 0 {
		lines[len(lines)-1] = st.Muted.Render(fmt.Sprintf("  … %d more (↓)", more+1))
	}
	return block(lines, v.width, v.height)
}

// stageTimes is the time the order spent in each stage.
func (v *timelineView) stageTimes() string {
	st := v.st
	var parts []string
	for _, name := range engine.StageNames {
		d := st.Muted.Render("-")
		if visited(&v.rec, name) {
			d = st.Text.Render(fmtDur(v.rec.StageTime(name)))
		}
		parts = append(parts, st.Muted.Render(name+" ")+d)
	}
	return st.Muted.Render("time in stage: ") + strings.Join(parts, st.Muted.Render(" · "))
}

// fmtOffset renders an event's offset from acceptance: +0, +1.2ms.
func fmtOffset(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-d)
	}
	return "+" + fmtDur(d)
}

// fmtTime renders a wall-clock time to the millisecond.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05.000")
}

// fmtCents renders an amount: 39.98.
func fmtCents(c int64) string {
	if c == 0 {
		return "-"
	}
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}
