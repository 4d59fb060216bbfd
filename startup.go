package main

import (
	"context"

	"oms-sim/loadgen/scenario"
)

// startUp sets up the process (setupProcess) and starts its pipeline
// (startPipeline) for o and sc, the start shared by the run and capacity
// commands. stop closes the engine (idempotent, so a caller may close it
// earlier) and then undoes the set-up; the caller defers it. On an error
// nothing is left to stop.
func startUp(parent context.Context, o runOptions, sc *scenario.Scenario) (ctx context.Context, p *pipeline, stop func(), err error) {
	ctx, log, done, err := setupProcess(parent, o)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err = startPipeline(ctx, o, sc, log)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return ctx, p, func() { p.eng.Close(); p.closeState(); done() }, nil
}
