package loadgen

import (
	"context"
	"testing"
	"time"

	"oms-sim/engine"
)

// TestInterruptUndoesFaults interrupts a run (as Ctrl+C does) while a
// stop and a fault are in force: both are undone before the drain — the
// stage consumes again and its error rate is back — so every order still
// ends, and the run fails, saying it was interrupted.
func TestInterruptUndoesFaults(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: interrupted
seed: 5
phases: [{duration: 30s, rate: 50/s}]
actions:
  - {at: 500ms, stop: {stage: inventory, for: 20s}}
  - {at: 500ms, fault: {stage: payment, error_rate: 0.5, for: 20s}}
`)
	e := startEngine(t, sc)
	r, err := New(Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, Broker: e.Snapshot().Broker, DrainTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once both actions are in force.
		for {
			s, _ := e.StageConfig(engine.StagePayment)
			if s.ErrorRate > 0 && e.Snapshot().Stages[1].Paused {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Passed {
		t.Errorf("interrupted %v passed %v, want an interrupted, failed run", rep.Interrupted, rep.Passed)
	}
	pay, _ := e.StageConfig(engine.StagePayment)
	var inv engine.StageSnapshot
	for _, s := range e.Snapshot().Stages {
		if s.Name == engine.StageInventory {
			inv = s
		}
	}
	if inv.Paused || pay.ErrorRate != 0 {
		t.Errorf("after the interrupted run: inventory paused %v, payment error rate %v; want both undone", inv.Paused, pay.ErrorRate)
	}
	if a := rep.Audit; a.Lost != 0 || a.Accepted == 0 {
		t.Errorf("audit %+v: the undone stop must let every order end", a)
	}
}
