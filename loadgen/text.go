package loadgen

import (
	"cmp"
	"fmt"
	"strings"
	"text/tabwriter"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
)

// Text renders the report as the one-screen summary printed at the end of
// a run.
func (rep *Report) Text() string { return rep.render(false) }

// Markdown renders the report as Markdown tables.
func (rep *Report) Markdown() string { return rep.render(true) }

func (rep *Report) render(md bool) string {
	var b strings.Builder
	title := func(s string) {
		if md {
			fmt.Fprintf(&b, "\n## %s\n\n", s)
		} else {
			fmt.Fprintf(&b, "\n%s\n", strings.ToUpper(s))
		}
	}
	table := func(header []string, rows [][]string) {
		if md {
			fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
			for _, r := range rows {
				fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
			}
			return
		}
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "  "+strings.Join(header, "\t")+"\t")
		for _, r := range rows {
			fmt.Fprintln(w, "  "+strings.Join(r, "\t")+"\t")
		}
		w.Flush()
	}
	if md {
		fmt.Fprintf(&b, "# oms-sim report: %s\n\n", rep.Scenario)
	} else {
		fmt.Fprintf(&b, "oms-sim report: %s\n", rep.Scenario)
	}
	broker := rep.Broker.URL
	if rep.Broker.Kind == "embedded" {
		broker = "EMBEDDED broker (in-process, not RabbitMQ)"
	}
	fmt.Fprintf(&b, "%s · %s queues · driver %s · seed %d · load %s + drain %s · run %s",
		broker, rep.Broker.QueueType, rep.Driver, rep.Seed, FormatMs(rep.DurationMs), FormatMs(rep.DrainMs), rep.RunID)
	if rep.State != "" && rep.State != engine.StateMemory {
		b.WriteString(" · state " + rep.State)
	}
	if rep.Interrupted {
		b.WriteString(" · INTERRUPTED")
	}
	b.WriteString("\n")
	if md {
		b.WriteString("\n") // a line of its own, not a continuation
	}
	fmt.Fprintf(&b, "messages: %s · %s · connections %s%s\n", bodySize(rep.Broker.BodyBytes), deliveryMode(rep.Broker.Persistent), cmp.Or(rep.Broker.Connections, "per-stage"), batchedText(rep.Broker))

	title("Load by phase")
	var rows [][]string
	for _, p := range rep.Phases {
		rows = append(rows, []string{p.Name, FormatMs(p.DurationMs), fmt.Sprintf("%.1f/s", p.TargetRate), fmt.Sprintf("%.1f/s", p.SentRate),
			fmt.Sprintf("%.1f/s", p.AchievedRate), fmt.Sprintf("%.3f", p.Ratio), fmt.Sprint(p.Sent), fmt.Sprint(p.Overdue),
			fmt.Sprint(p.Dropped), fmt.Sprint(p.Accepted), fmt.Sprint(p.Failed), fmt.Sprint(p.Shed), fmt.Sprint(p.Retries), fmt.Sprint(p.LateSends)})
	}
	table([]string{"phase", "duration", "target", "sent/s", "achieved", "ratio", "sent", "overdue", "dropped", "accepted", "failed", "shed", "retries", "late"}, rows)
	if md {
		b.WriteString("\n")
	}
	for _, p := range rep.Phases {
		if p.Dropped+p.Overdue+p.Shed > 0 {
			fmt.Fprintf(&b, "  %s: offered %s, sent %s, dropped %s, overdue %s, shed %s\n", p.Name, fmtRate(p.TargetRate),
				fmtRate(p.SentRate), thousands(p.Dropped), thousands(p.Overdue), thousands(p.Shed))
		}
		if p.Limit != nil && p.Limit.Kind != LimitNone {
			fmt.Fprintf(&b, "  %s limited by %s\n", p.Name, p.Limit)
		}
	}
	if rep.Limit != nil {
		fmt.Fprintf(&b, "  LIMIT: %s\n", rep.Limit)
	}

	title("Stages")
	rows = nil
	for _, s := range rep.Stages {
		rows = append(rows, []string{s.Name, fmt.Sprint(s.Workers), fmt.Sprintf("%.0f/s", s.Throughput), fmt.Sprintf("%.0f%%", s.PeakUtilisation*100), fmt.Sprint(s.PeakQueue),
			lat(s.QueueWait), lat(s.Service), fmt.Sprint(s.Retried), fmt.Sprint(s.Dead)})
	}
	table([]string{"stage", "workers", "throughput", "peak ρ", "peak queue", "queue wait p50/p90/p99/max", "service p50/p90/p99/max", "retried", "dead"}, rows)
	for _, s := range rep.Stages {
		if s.AckErrors > 0 {
			fmt.Fprintf(&b, "  %s: %d acks or nacks refused by the broker connection (redelivered, answered from the stage's memory or the shared inbox)\n", s.Name, s.AckErrors)
		}
		if s.InboxHits > 0 {
			fmt.Fprintf(&b, "  %s: %d redeliveries answered from the shared inbox (handled before; not charged or taken again)\n", s.Name, s.InboxHits)
		}
	}

	if rows := waitRows(rep.Phases); len(rows) > 0 {
		title("Queue wait: predicted (M/M/c, Erlang C, from λ, mean service and workers) vs measured — medians of 1 s samples")
		table([]string{"phase", "stage", "ρ", "predicted", "measured", "measured÷predicted", "unstable"}, rows)
	}

	title("End to end (intended send → terminal status)")
	table([]string{"", "count", "p50", "p90", "p99", "p99.9", "max"}, [][]string{
		latRow("e2e", rep.E2E), latRow("accept", rep.Accept), latRow("send lateness", rep.Lateness),
	})

	if charts := rep.Series.charts(); charts != "" {
		title("Over time")
		if md {
			b.WriteString("```\n" + charts + "```\n")
		} else {
			b.WriteString(charts)
		}
	}

	if bs := rep.BrokerSide; bs != nil {
		title("Broker side (management API, as the load ended)")
		if !bs.Available {
			fmt.Fprintf(&b, "  broker figures unavailable: %s\n", bs.Note)
		} else {
			rows = nil
			for _, q := range bs.Queues {
				rows = append(rows, []string{q.Name, fmt.Sprint(q.Ready), fmt.Sprint(q.Unacked), fmt.Sprint(q.Consumers),
					fmt.Sprintf("%.0f/s", q.PublishRate), fmt.Sprintf("%.0f/s", q.DeliverRate)})
			}
			table([]string{"queue", "ready", "unacked (all consumers)", "consumers", "publish", "deliver"}, rows)
			if md {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "  connections of this process: %d, in flow control %d, blocked %d; alarms: %s\n", bs.Connections, bs.Flow, bs.Blocked, alarmsText(bs.Alarms))
		}
	}

	title("Audit")
	a := rep.Audit
	fmt.Fprintf(&b, "  accepted %d · confirmed %d · payment_failed %d · refunded %d · dead_lettered %d · LOST %d · DUPLICATED %d\n",
		a.Accepted, a.Confirmed, a.PaymentFailed, a.Refunded, a.DeadLettered, a.Lost, a.Duplicated)
	fmt.Fprintf(&b, "  sent %d · failed sends %d · shed %d · retries %d · late sends %d · overdue %d · dropped %d (max in-flight %d) · skipped (paused) %d\n",
		rep.Sent, rep.Failed, rep.Shed, rep.Retries, rep.LateSends, rep.Overdue, rep.Dropped, rep.MaxInFlight, rep.Skipped)
	if rep.Events.Kind == engine.EventsStream {
		fmt.Fprintf(&b, "  event stream: %d events appended, %d dropped, %d reconnects\n", rep.Events.Appended, rep.Events.Dropped, rep.Events.Reconnects)
	}
	if a.Recovered+a.Orphaned > 0 {
		fmt.Fprintf(&b, "  recovered %d (answered indeterminate, ran anyway) · orphaned %d (ended, never accepted to this run: another load source's?)\n", a.Recovered, a.Orphaned)
	}
	if a.Redone > 0 {
		fmt.Fprintf(&b, "  redone %d (work done again after a crash or a lost connection; not duplicated orders): %s\n", a.Redone, strings.Join(a.RedoneIDs, ", "))
	}
	if a.Untracked > 0 {
		fmt.Fprintf(&b, "  %d orders had no order_id to follow and were not audited\n", a.Untracked)
	}
	if len(a.LostIDs) > 0 {
		fmt.Fprintf(&b, "  lost: %s\n", strings.Join(a.LostIDs, ", "))
	}
	if len(a.DuplicatedIDs) > 0 {
		fmt.Fprintf(&b, "  duplicated: %s\n", strings.Join(a.DuplicatedIDs, ", "))
	}
	for _, e := range rep.SendErrors {
		fmt.Fprintf(&b, "  send error: %s\n", e)
	}

	title("Ledger")
	for _, l := range a.Ledger.lines(rep.Events.Dropped) {
		fmt.Fprintf(&b, "  %s\n", l)
	}

	if len(rep.FailedActions) > 0 {
		title("Failed actions")
		rows = nil
		for _, f := range rep.FailedActions {
			rows = append(rows, []string{"at " + FormatMs(f.AtMs), f.Action, f.Error})
		}
		table([]string{"when", "action", "refused because"}, rows)
	}

	if len(rep.Thresholds) > 0 {
		title("Thresholds")
		rows = nil
		for _, t := range rep.Thresholds {
			rows = append(rows, []string{passWord(t.Pass), t.Threshold, t.Display})
		}
		table([]string{"", "threshold", "observed"}, rows)
	}
	fmt.Fprintf(&b, "\nRESULT: %s", passWord(rep.Passed))
	if rep.Audit.Lost > 0 {
		fmt.Fprintf(&b, " (%d orders lost)", rep.Audit.Lost)
	}
	switch n := len(rep.FailedActions); {
	case n == 1:
		b.WriteString(" (1 action refused)")
	case n > 1:
		fmt.Fprintf(&b, " (%d actions refused)", n)
	}
	b.WriteString("\n")
	return b.String()
}

// fmtRate renders orders per second: whole above 10/s.
func fmtRate(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f/s", v)
	}
	return fmt.Sprintf("%.1f/s", v)
}

// thousands renders n with comma separators: 12,345.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func lat(l telemetry.Millis) string {
	if l.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%s/%s/%s/%s", FormatMs(l.P50), FormatMs(l.P90), FormatMs(l.P99), FormatMs(l.Max))
}

func latRow(name string, l telemetry.Millis) []string {
	return []string{name, fmt.Sprint(l.Count), FormatMs(l.P50), FormatMs(l.P90), FormatMs(l.P99), FormatMs(l.P999), FormatMs(l.Max)}
}

// ProgressLine renders one headless progress line.
func ProgressLine(p Progress, s engine.Snapshot) string {
	var b strings.Builder
	if p.Scenario != "" {
		fmt.Fprintf(&b, "[%s %d/%d %s] %v/%v", p.Scenario, p.PhaseIndex+1, p.Phases, p.Phase,
			p.Elapsed.Round(1e9), p.Total.Round(1e9))
	} else {
		fmt.Fprintf(&b, "[manual] %v", p.Elapsed.Round(1e9))
	}
	fmt.Fprintf(&b, " rate accepted/sent/target %.0f/%.0f/%.0f/s in-flight %d accepted %d failed %d late %d",
		p.AchievedRate, p.SentRate, p.TargetRate, p.InFlight, p.Accepted, p.Failed, p.LateSends)
	if p.Dropped > 0 {
		fmt.Fprintf(&b, " dropped %d", p.Dropped)
	}
	if p.Shed > 0 {
		fmt.Fprintf(&b, " shed %d", p.Shed)
	}
	if p.Retries > 0 {
		fmt.Fprintf(&b, " retries %d", p.Retries)
	}
	if p.Paused {
		b.WriteString(" PAUSED")
	}
	if p.Limit.Kind != "" && p.Limit.Kind != LimitNone {
		b.WriteString(" | limit " + p.Limit.what())
		if p.Limit.Brief != "" {
			b.WriteString(" (" + p.Limit.Brief + ")")
		}
	}
	b.WriteString(" | queues")
	for _, q := range s.Queues {
		fmt.Fprintf(&b, " %s=%d", strings.TrimPrefix(q.Queue, "oms."), q.Ready)
	}
	fmt.Fprintf(&b, " | open %d", s.Orders.Open)
	if s.E2ERecent.Count > 0 {
		fmt.Fprintf(&b, " e2e p99 %v", s.E2ERecent.P99.Round(1e5))
	} else {
		b.WriteString(" e2e p99 -") // none ended in the last 5-10 s
	}
	if !s.Broker.Connected {
		b.WriteString(" | RECONNECTING")
	}
	return b.String()
}

// bodySize describes the message body size of a run.
func bodySize(n int) string {
	if n == 0 {
		return "order JSON as it is (~150 B)"
	}
	return fmt.Sprintf("bodies of %d B", n)
}

// deliveryMode names a run's delivery mode.
func deliveryMode(persistent bool) string {
	if persistent {
		return "persistent"
	}
	return "transient (delivery mode 1)"
}

// alarmsText lists the broker's alarms, or says there are none.
func alarmsText(alarms []string) string {
	if len(alarms) == 0 {
		return "none"
	}
	return strings.Join(alarms, ", ")
}

// batchedText names the write batching of an AMQP run's connections.
func batchedText(b Broker) string {
	switch {
	case b.Kind != "rabbitmq":
		return ""
	case b.WritesBatched:
		return " · writes batched"
	default:
		return " · writes unbatched"
	}
}
