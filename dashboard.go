package main

import (
	"context"
	"fmt"
	"os"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
	"oms-sim/tui"
)

// runDashboard shows the Bubble Tea dashboard while the scenario (or the
// manual load the user starts from it) runs. Quitting the dashboard before
// a scenario ends stops the load; the run still drains and is audited.
func runDashboard(ctx context.Context, o runOptions, sc *scenario.Scenario, eng *engine.Engine, runner *loadgen.Runner) (*loadgen.Report, error) {
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	name := ""
	if sc != nil {
		name = sc.Name
		go func() {
			rep, err := runner.Run(loadCtx)
			done <- result{rep, err}
		}()
	} else {
		go func() {
			if runner != nil {
				runner.RunManual(loadCtx)
			}
			done <- result{}
		}()
	}
	var load loadgen.Controller
	if runner != nil { // a nil *Runner in the interface would not be nil
		load = runner
	}
	m := tui.New(eng, eng, load, tui.Options{ScenarioName: name, NoColor: os.Getenv("NO_COLOR") != ""})
	if err := tui.Run(ctx, m); err != nil {
		stopLoad()
		<-done
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	stopLoad() // quitting early ends the load; Run then drains and audits
	if sc != nil {
		fmt.Fprintln(os.Stderr, "oms-sim: load stopped; draining and auditing (Ctrl+C to exit at once)")
	}
	r := <-done
	if r.rep != nil {
		fmt.Print(r.rep.Text())
	}
	return r.rep, r.err
}
