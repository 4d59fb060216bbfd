package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"oms-sim/engine"
)

// tracePageSize is how many orders one trace fetch reads.
const tracePageSize = 200

// filterCycle is what f steps through; nil shows every order.
var filterCycle = [][]engine.Status{
	nil,
	{"failed"},
	{"open"},
	{engine.StatusConfirmed},
	{engine.StatusPaymentFailed},
	{engine.StatusRefunded},
	{engine.StatusDeadLettered},
}

// tracePanel is the live order-by-order table. At the top it follows the
// newest orders; once the cursor moves down the page freezes so the row
// under the cursor stays put, and only its rows' figures refresh. g (or
// moving back to the top) follows the newest again.
type tracePanel struct {
	st            *Styles
	width, height int
	focused       bool
	now           time.Time

	filter    []engine.Status
	filterIdx int
	// gen changes with the filter, so a page fetched for the old filter
	// is dropped.
	gen uint64

	rows    []engine.OrderRecord
	total   int
	cursor  int
	top     int
	live    bool
	loading bool
}

func newTracePanel(st *Styles) tracePanel { return tracePanel{st: st, live: true} }

func (p *tracePanel) SetSize(w, h int) {
	p.width, p.height = w, h
	p.scrollToCursor()
}

func (p *tracePanel) SetFocused(f bool) { p.focused = f }

// visible is how many order rows fit under the title and column header.
func (p *tracePanel) visible() int { return max(p.height-2, 0) }

// Move moves the cursor by delta rows. Leaving the top freezes the page;
// reaching the top again follows the newest orders.
func (p *tracePanel) Move(delta int) {
	if len(p.rows) == 0 {
		return
	}
	p.cursor = min(max(p.cursor+delta, 0), len(p.rows)-1)
	p.live = p.cursor == 0 && (delta < 0 || p.live)
	p.scrollToCursor()
}

// Follow jumps to the newest order and follows new ones.
func (p *tracePanel) Follow() {
	p.cursor, p.top, p.live = 0, 0, true
}

func (p *tracePanel) scrollToCursor() {
	v := max(p.visible(), 1)
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+v {
		p.top = p.cursor - v + 1
	}
	p.top = max(p.top, 0)
}

// CycleFilter steps to the next status filter.
func (p *tracePanel) CycleFilter() {
	p.filterIdx = (p.filterIdx + 1) % len(filterCycle)
	p.SetFilter(filterCycle[p.filterIdx])
}

// SetFilter shows only orders in the given statuses (nil: all).
func (p *tracePanel) SetFilter(f []engine.Status) {
	p.filter = f
	p.gen++
	p.rows, p.total, p.loading = nil, 0, false
	p.Follow()
}

// FilterLabel names the filter for titles.
func (p *tracePanel) FilterLabel() string {
	if len(p.filter) == 0 {
		return "all"
	}
	s := make([]string, len(p.filter))
	for i, f := range p.filter {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// request fills in the trace part of a poll.
func (p *tracePanel) request(r *fetchReq) {
	r.filter, r.traceGen = p.filter, p.gen
	if p.live {
		r.live, r.limit = true, tracePageSize
		return
	}
	end := min(p.top+p.visible(), len(p.rows))
	for _, o := range p.rows[p.top:end] {
		r.ids = append(r.ids, o.OrderID)
	}
}

// wantMore reports whether the cursor reached the end of a frozen page
// with more orders to read; moreRequest asks for them.
func (p *tracePanel) wantMore() bool {
	return !p.live && !p.loading && p.cursor >= len(p.rows)-1 && len(p.rows) < p.total
}

func (p *tracePanel) moreRequest(r *fetchReq) {
	p.loading = true
	r.filter, r.traceGen = p.filter, p.gen
	r.offset, r.limit = len(p.rows), tracePageSize
}

// apply folds a poll's orders in.
func (p *tracePanel) apply(d dataMsg, now time.Time) {
	p.now = now
	if d.req.traceGen != p.gen {
		return
	}
	switch {
	case d.req.offset > 0:
		p.loading = false
		seen := make(map[string]bool, len(p.rows))
		for _, r := range p.rows {
			seen[r.OrderID] = true
		}
		rows := slices.Clip(p.rows) // append must not write into a shared array
		for _, r := range d.orders {
			if !seen[r.OrderID] {
				rows = append(rows, r)
			}
		}
		p.rows = rows
		p.total = max(d.total, len(p.rows))
	case d.req.live:
		if !p.live {
			return // frozen since this was asked for
		}
		p.rows, p.total = d.orders, d.total
	case len(d.req.ids) > 0:
		fresh := make(map[string]engine.OrderRecord, len(d.orders))
		for _, r := range d.orders {
			fresh[r.OrderID] = r
		}
		rows := slices.Clone(p.rows) // earlier models share the old array
		for i, r := range rows {
			if f, ok := fresh[r.OrderID]; ok {
				rows[i] = f
			}
		}
		p.rows = rows
	}
	p.cursor = min(p.cursor, max(len(p.rows)-1, 0))
	p.scrollToCursor()
}

// Selected returns the order under the cursor.
func (p *tracePanel) Selected() (engine.OrderRecord, bool) {
	if p.cursor < 0 || p.cursor >= len(p.rows) {
		return engine.OrderRecord{}, false
	}
	return p.rows[p.cursor], true
}

func (p *tracePanel) columns() []column {
	idw := 13
	if p.width >= 130 {
		idw = 36
	}
	return []column{
		{title: "ORDER", width: idw},
		{title: "PROD", width: 4, right: true},
		{title: "QTY", width: 3, right: true},
		{title: "STATUS", width: 16},
		{title: "E2E", width: 7, right: true},
		{title: "PAYMENT", width: 7, right: true},
		{title: "INVENTORY", width: 9, right: true, drop: 1},
		{title: "EMAIL", width: 7, right: true},
		{title: "AGE", width: 4, right: true, drop: 2},
		{title: "DETAIL", width: 10, flex: true, drop: 3},
	}
}

// View draws the title (filter, count, live or frozen), the column
// header and the visible rows.
func (p *tracePanel) View() string {
	st := p.st
	title := st.Title
	if p.focused {
		title = st.TitleFocus
	}
	mode := st.Good.Render("● live")
	if !p.live {
		mode = st.Warn.Render("⏸ frozen — g follows the newest")
	}
	head := title.Render(" ORDERS ") + "  " + st.Muted.Render("filter ") + st.Accent.Render(p.FilterLabel()) +
		st.Muted.Render(fmt.Sprintf("  %s matching  ", fmtCount(p.total))) + mode
	cols := p.columns()
	ws := layoutColumns(cols, p.width-gutter)
	lines := []string{head, st.Muted.Render("  " + headerRow(cols, ws))}
	if len(p.rows) == 0 {
		empty := "  no orders yet"
		if len(p.filter) > 0 {
			empty = "  no recent order matches this filter"
		}
		lines = append(lines, st.Muted.Render(empty))
	}
	end := min(p.top+p.visible(), len(p.rows))
	for i := p.top; i < end; i++ {
		lines = append(lines, gutterRow(st, row(cols, ws, p.cells(&p.rows[i])), i == p.cursor, p.focused, p.width))
	}
	return block(lines, p.width, p.height)
}

func (p *tracePanel) cells(r *engine.OrderRecord) []string {
	st := p.st
	idw := 13
	if p.width >= 130 {
		idw = 36
	}
	e2e := st.Text.Render(fmtDur(r.Latency))
	if !r.Status.Terminal() {
		e2e = st.Muted.Render("-")
		if !r.AcceptedAt.IsZero() && !p.now.IsZero() {
			e2e = st.Muted.Render(fmtDur(p.now.Sub(r.AcceptedAt)) + "…")
		}
	}
	stage := func(name string) string {
		if !visited(r, name) {
			return st.Muted.Render("·")
		}
		return st.Text.Render(fmtDur(r.StageTime(name)))
	}
	return []string{
		st.Text.Render(shortID(r.OrderID, idw)),
		st.Text.Render(fmt.Sprint(r.ProductID)),
		st.Text.Render(fmt.Sprint(r.Quantity)),
		st.Status(r.Status).Render(statusSymbol(r.Status) + " " + string(r.Status)),
		e2e,
		stage(engine.StagePayment),
		stage(engine.StageInventory),
		stage(engine.StageEmail),
		st.Muted.Render(fmtAgo(r.AcceptedAt, p.now)),
		st.Muted.Render(orderDetail(r)),
	}
}

// visited reports whether any of the order's events came from stage.
func visited(r *engine.OrderRecord, stage string) bool {
	for _, ev := range r.Events {
		if ev.Stage == stage {
			return true
		}
	}
	return false
}

// orderDetail is the order's failure reason or its latest event detail.
func orderDetail(r *engine.OrderRecord) string {
	if r.Reason != "" {
		return r.Reason
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		if d := r.Events[i].Detail; d != "" {
			return d
		}
	}
	return ""
}

// statusSymbol marks how an order ended, so status reads without colour.
func statusSymbol(s engine.Status) string {
	switch s {
	case engine.StatusConfirmed:
		return "✓"
	case engine.StatusPaymentFailed, engine.StatusRefunded, engine.StatusDeadLettered:
		return "✗"
	}
	return "·"
}
