package tui

import (
	"fmt"
	"strings"

	"oms-sim/engine"
)

// The queues panel's second view (key m): each queue as the broker counts
// it, from the management API — unacked across every consumer of every
// process, consumers, the broker's publish and deliver rates — and, on a
// line of its own when the panel has room, this process's connections in
// flow control or blocked and the nodes' memory and disk alarms. When the
// API does not answer the panel says so, and why.

// brokerCols are the broker view's columns, as wide as the process
// view's so switching moves nothing.
var brokerCols = []column{
	{title: "BROKER QUEUES", width: 13},
	{title: "READY", width: 7, right: true},
	{title: "UNACKED", width: 7, right: true},
	{title: "OURS", width: 7, right: true, drop: 2},
	{title: "CONS", width: 4, right: true, drop: 3},
	{title: "PUB/s", width: 6, right: true},
	{title: "DLV/s", width: 6, right: true},
	{title: "MGMT API, EVERY 2s", width: 10, flex: true, drop: 1},
}

// brokerView draws the broker's figures for each queue; mine are this
// process's queue snapshots (for OURS, the unacked its own workers hold).
func (p *queuesPanel) brokerView(rows int) []string {
	st := p.st
	side := p.side
	cols := brokerCols
	if !p.roomForStatus() {
		// No status line: the last column's title says it, briefly.
		cols = append([]column(nil), brokerCols...)
		cols[len(cols)-1].title = p.sideBrief()
	}
	ws := layoutColumns(cols, p.width)
	title := headerRow(cols, ws)
	lines := []string{st.Title.Render(fit(title, p.width))}
	if !side.Available {
		msg := "broker figures unavailable: " + sideWhy(side)
		for _, l := range wrapLines(msg, p.width, max(rows, 1)) {
			lines = append(lines, st.Warn.Render(l))
		}
		return lines
	}
	mine := map[string]engine.QueueSnapshot{}
	for _, q := range p.queues {
		mine[q.Name] = q
	}
	for _, bq := range side.Queues {
		q, ok := mine[bq.Name]
		name, ours := bq.Name, st.Muted.Render("-")
		if ok {
			name, ours = q.Queue, st.Muted.Render(fmtCount(q.Unacked))
		}
		ready := st.Text.Render(fmtCount(bq.Ready))
		if strings.HasSuffix(bq.Name, engine.QueueDead) && bq.Ready > 0 {
			ready = st.Bad.Render(fmtCount(bq.Ready))
		}
		unacked := st.Text.Render(fmtCount(bq.Unacked))
		if ok && bq.Unacked > q.Unacked {
			unacked = st.Accent.Render(fmtCount(bq.Unacked)) // others hold some
		}
		lines = append(lines, row(cols, ws, []string{
			st.Text.Render(name), ready, unacked, ours,
			st.Muted.Render(fmtCount(bq.Consumers)),
			st.Text.Render(fmtRate(bq.PublishRate)),
			st.Text.Render(fmtRate(bq.DeliverRate)),
		}))
		if len(lines) > rows {
			break
		}
	}
	return lines
}

// sideWhy is why the broker's figures are missing, in plain words.
func sideWhy(side engine.BrokerSide) string {
	if side.Note != "" {
		return side.Note
	}
	return "no answer from the management API yet"
}

// sideStatus is the one-line state of the broker's side: the nodes'
// alarms first (they block every publisher), then this process's
// connections in flow control and blocked; or why there are no figures.
func (p *queuesPanel) sideStatus() string {
	st := p.st
	side, alarms := p.side, p.alarms
	if !side.Available {
		return st.Muted.Render("broker figures unavailable: " + sideWhy(side))
	}
	sep := st.Muted.Render(" · ")
	b := st.Muted.Render("broker: ")
	if len(alarms) > 0 {
		b += st.Bad.Render("⚠ alarm: " + strings.Join(alarms, ", "))
	} else {
		b += st.Muted.Render("no alarms")
	}
	b += sep + st.Muted.Render(fmt.Sprintf("our %d connections: ", side.Connections))
	if side.Flow > 0 {
		b += st.Warn.Render(fmt.Sprintf("%d in flow control", side.Flow))
	} else {
		b += st.Muted.Render("none in flow control")
	}
	b += st.Muted.Render(", ")
	if side.Blocked > 0 {
		b += st.Bad.Render(fmt.Sprintf("%d blocked", side.Blocked))
	} else {
		b += st.Muted.Render("none blocked")
	}
	if side.Note != "" {
		b += sep + st.Warn.Render(side.Note)
	}
	return b
}

// sideBrief is sideStatus in a few words, for a panel without room for
// the status line.
func (p *queuesPanel) sideBrief() string {
	side := p.side
	switch {
	case !side.Available:
		return ""
	case len(p.alarms) > 0:
		return "⚠ ALARM: " + strings.Join(p.alarms, ", ")
	case side.Blocked > 0:
		return fmt.Sprintf("%d CONNS BLOCKED", side.Blocked)
	case side.Flow > 0:
		return fmt.Sprintf("%d CONNS IN FLOW", side.Flow)
	}
	return "NO ALARM, NO FLOW"
}
