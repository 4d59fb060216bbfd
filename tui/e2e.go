package tui

import (
	"time"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
)

// e2ePanel shows API accept → terminal status: percentiles over the run
// and the last seconds, the p99 of the last minute as a sparkline, and how
// the orders ended.
type e2ePanel struct {
	st            *Styles
	width, height int
	snap          engine.Snapshot
}

func newE2EPanel(st *Styles) e2ePanel { return e2ePanel{st: st} }

func (p *e2ePanel) SetSize(w, h int)            { p.width, p.height = w, h }
func (p *e2ePanel) Update(snap engine.Snapshot) { p.snap = snap }

var e2eCols = []column{
	{title: "END TO END", width: 10},
	{title: "p50", width: 7, right: true},
	{title: "p90", width: 7, right: true},
	{title: "p99", width: 7, right: true},
	{title: "max", width: 7, right: true},
	{title: "orders", width: 8, right: true, drop: 1},
}

// View draws the panel; at one line high it squeezes into a summary.
func (p *e2ePanel) View() string {
	if p.height == 1 {
		return block([]string{p.oneLine()}, p.width, 1)
	}
	st := p.st
	ws := layoutColumns(e2eCols, p.width)
	pr := func(label string, q telemetry.Percentiles) string {
		return row(e2eCols, ws, []string{
			st.Muted.Render(label),
			st.Text.Render(fmtDur(q.P50)), st.Text.Render(fmtDur(q.P90)),
			st.Level(q.P99.Seconds(), 0.5, 2).Render(fmtDur(q.P99)),
			st.Text.Render(fmtDur(q.Max)),
			st.Muted.Render(fmtCount(q.Count)),
		})
	}
	lines := []string{
		st.Title.Render(fit(headerRow(e2eCols, ws), p.width)),
		pr("whole run", p.snap.E2E),
		pr("last 10s", p.snap.E2ERecent),
		p.sparkLine(),
		p.counts(),
	}
	return block(lines, p.width, p.height)
}

// sparkLine is the recent p99 history, labelled with its last value.
func (p *e2ePanel) sparkLine() string {
	st := p.st
	h := p.snap.E2EHistory
	label := "p99 "
	if p.width >= 60 {
		label = "p99, last minute "
	}
	tail := ""
	if n := len(h); n > 0 {
		tail = " " + fmtMs(h[n-1])
	}
	w := max(p.width-len(label)-len(tail), 0)
	return st.Muted.Render(label) + st.Spark.Render(sparkline(h, w)) + st.Text.Render(tail)
}

// counts says how orders ended so far.
func (p *e2ePanel) counts() string {
	st := p.st
	c := p.snap.Orders
	parts := []part{
		{st.Muted.Render("accepted ") + st.Text.Render(fmtCount(c.Accepted)), 2},
		{st.Muted.Render("open ") + st.Text.Render(fmtCount(c.Open)), 1},
		{st.Good.Render("✓ " + fmtCount(c.Confirmed)), 0},
		{st.Status(engine.StatusPaymentFailed).Render("declined " + fmtCount(c.PaymentFailed)), 0},
		{st.Status(engine.StatusRefunded).Render("refunded " + fmtCount(c.Refunded)), 0},
		{countStyle(st, c.DeadLettered).Render("dead " + fmtCount(c.DeadLettered)), 0},
	}
	if c.Duplicated > 0 {
		parts = append(parts, part{st.Bad.Render("duplicated " + fmtCount(c.Duplicated)), 0})
	}
	if c.Redone > 0 {
		parts = append(parts, part{st.Muted.Render("redone " + fmtCount(c.Redone)), 0})
	}
	return joinFit(parts, "  ", p.width)
}

// oneLine is the compact form: percentiles, a short sparkline, outcomes.
func (p *e2ePanel) oneLine() string {
	st := p.st
	q := p.snap.E2E
	c := p.snap.Orders
	s := st.Title.Render("E2E") + " " +
		st.Muted.Render("p50 ") + st.Text.Render(fmtDur(q.P50)) + " " +
		st.Muted.Render("p90 ") + st.Text.Render(fmtDur(q.P90)) + " " +
		st.Muted.Render("p99 ") + st.Level(q.P99.Seconds(), 0.5, 2).Render(fmtDur(q.P99)) + " " +
		st.Muted.Render("max ") + st.Text.Render(fmtDur(q.Max)) + "  " +
		st.Good.Render("✓"+fmtCount(c.Confirmed)) + " " +
		st.Warn.Render("✗"+fmtCount(c.PaymentFailed+c.Refunded)) + " " +
		countStyle(st, c.DeadLettered).Render("dead "+fmtCount(c.DeadLettered)) + " " +
		st.Muted.Render("open "+fmtCount(c.Open))
	if room := p.width - ansi.StringWidth(s) - 1; room >= 8 {
		s += " " + st.Spark.Render(sparkline(p.snap.E2EHistory, min(room, 30)))
	}
	return s
}

// fmtMs renders a millisecond figure as a duration.
func fmtMs(ms float64) string {
	return fmtDur(time.Duration(ms * float64(time.Millisecond)))
}
