package tui

import "oms-sim/engine"

// watchedQueues are the queues the panel lists before the first
// snapshot: the standard pipeline's, in pipeline order. Afterwards it
// lists the snapshot's.
var watchedQueues = engine.StandardRoutes().Queues()

// queuesPanel shows each queue's depth, its last minute as a sparkline,
// and its in and out rates.
type queuesPanel struct {
	st            *Styles
	width, height int
	queues        []engine.QueueSnapshot
	// side and alarms are the management API's figures (brokerside.go);
	// broker shows them instead of this process's (key m).
	side   engine.BrokerSide
	alarms []string
	broker bool
}

func newQueuesPanel(st *Styles) queuesPanel { return queuesPanel{st: st} }

func (p *queuesPanel) SetSize(w, h int) { p.width, p.height = w, h }

// Update takes the latest snapshot.
func (p *queuesPanel) Update(snap engine.Snapshot) {
	p.queues, p.side, p.alarms = snap.Queues, snap.Broker.Side, snap.Broker.Nodes.Alarms
}

// ToggleBroker switches between this process's figures and the broker's.
func (p *queuesPanel) ToggleBroker() { p.broker = !p.broker }

// roomForStatus reports whether the panel has a line under the queues.
func (p *queuesPanel) roomForStatus() bool { return p.height > len(watchedQueues)+1 }

// withStatus lays lines out with, on the panel's last line when it has
// room, the broker's side: this process's connections and the alarms.
func (p *queuesPanel) withStatus(lines []string) string {
	if p.roomForStatus() && (!p.broker || p.side.Available) {
		for len(lines) < p.height-1 {
			lines = append(lines, "")
		}
		lines = append(lines[:p.height-1], p.sideStatus())
	}
	return block(lines, p.width, p.height)
}

var queueCols = []column{
	{title: "QUEUES", width: 13},
	{title: "READY", width: 7, right: true},
	{title: "UNACKED", width: 7, right: true},
	{title: "PEAK", width: 7, right: true, drop: 2},
	{title: "CONS", width: 4, right: true, drop: 3},
	{title: "IN/s", width: 6, right: true},
	{title: "OUT/s", width: 6, right: true},
	{title: "READY, LAST MINUTE", width: 10, flex: true, drop: 1},
}

// View draws a header line and one line per queue.
func (p *queuesPanel) View() string {
	st := p.st
	if p.broker {
		return p.withStatus(p.brokerView(min(p.height-1, len(watchedQueues))))
	}
	ws := layoutColumns(queueCols, p.width)
	lines := []string{st.Title.Render(fit(headerRow(queueCols, ws), p.width))}
	if len(p.queues) == 0 {
		for _, name := range watchedQueues {
			lines = append(lines, row(queueCols, ws, []string{name, st.Muted.Render("-")}))
		}
		return p.withStatus(lines)
	}
	// The snapshot lists the queues in pipeline order; shown without
	// the namespace.
	for _, q := range p.queues {
		name := q.Queue
		ready := st.Text.Render(fmtCount(q.Ready))
		switch {
		case name == engine.QueueDead && q.Ready > 0:
			ready = st.Bad.Render(fmtCount(q.Ready))
		case q.Ready > 1000:
			ready = st.Warn.Render(fmtCount(q.Ready))
		}
		spark := st.Spark.Render(sparkline(q.History, ws[len(ws)-1]))
		if q.Err != "" {
			spark = st.Bad.Render("⚠ " + q.Err)
		}
		lines = append(lines, row(queueCols, ws, []string{
			st.Text.Render(name), ready,
			st.Text.Render(fmtCount(q.Unacked)),
			st.Muted.Render(fmtCount(q.PeakReady)),
			st.Muted.Render(fmtCount(q.Consumers)),
			st.Text.Render(fmtRate(q.InRate)),
			st.Text.Render(fmtRate(q.OutRate)),
			spark,
		}))
	}
	return p.withStatus(lines)
}
