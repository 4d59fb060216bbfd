package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// runHeadless runs the scenario with progress lines, or, without one,
// prints a status line every few seconds until interrupted.
func runHeadless(ctx context.Context, o runOptions, sc *scenario.Scenario, eng *engine.Engine, runner *loadgen.Runner) (*loadgen.Report, error) {
	if sc == nil {
		statusLoop(ctx, eng, o.statusEvery, os.Stdout)
		return nil, nil
	}
	rep, err := runner.Run(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Print(rep.Text())
	return rep, nil
}

// statusLoop prints a one-line status every interval until ctx ends.
func statusLoop(ctx context.Context, eng *engine.Engine, every time.Duration, w io.Writer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintln(w, statusLine(eng.Snapshot()))
		}
	}
}

// statusLine summarises a snapshot on one line.
func statusLine(s engine.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s accepted %d (%.0f/s) open %d confirmed %d failed %d refunded %d dead %d",
		s.Time.Format("15:04:05"), s.Orders.Accepted, s.AcceptRate, s.Orders.Open, s.Orders.Confirmed,
		s.Orders.PaymentFailed, s.Orders.Refunded, s.Orders.DeadLettered)
	if n := s.Orders.Recovered + s.Orders.Orphaned; n > 0 {
		fmt.Fprintf(&b, " recovered %d orphaned %d", s.Orders.Recovered, s.Orders.Orphaned)
	}
	if s.API.Shed > 0 || s.API.Unavailable > 0 {
		fmt.Fprintf(&b, " | 503: shed %d unavailable %d", s.API.Shed, s.API.Unavailable)
	}
	if s.Admission.Shedding {
		fmt.Fprintf(&b, " SHEDDING (backlog %d > %d)", s.Admission.Backlog, s.Admission.MaxBacklog)
	}
	for _, st := range s.Stages {
		fmt.Fprintf(&b, " | %s w%d q%d %.0f/s ρ%.0f%%", st.Name, st.Running, st.Queue.Ready, st.Rate1s, st.Utilisation*100)
	}
	if s.E2ERecent.Count > 0 {
		fmt.Fprintf(&b, " | e2e p99 %v (last 5-10 s)", s.E2ERecent.P99)
	} else if s.E2E.Count > 0 {
		fmt.Fprintf(&b, " | e2e p99 %v (whole run; none ended lately)", s.E2E.P99)
	}
	if !s.Broker.Connected {
		b.WriteString(" | RECONNECTING")
	}
	if strings.Contains(s.Broker.URL, ",") {
		b.WriteString(" | on " + s.Broker.NodesLine())
	}
	if s.Broker.Kind == "embedded" {
		b.WriteString(" | EMBEDDED BROKER")
	}
	return b.String()
}
