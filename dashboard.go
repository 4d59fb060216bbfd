package main

import (
	"context"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// runDashboard runs the Bubble Tea dashboard (placeholder until tui lands:
// headless output).
func runDashboard(ctx context.Context, o runOptions, sc *scenario.Scenario, eng *engine.Engine, runner *loadgen.Runner) (*loadgen.Report, error) {
	return runHeadless(ctx, o, sc, eng, runner)
}
