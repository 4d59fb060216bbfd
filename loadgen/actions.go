package loadgen

import (
	"context"
	"fmt"
	"sort"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// timed is one step of the action timeline: an action or the undoing of
// one (the end of a fault, a stop or a pause).
type timed struct {
	at   time.Duration
	text string
	do   func() error
}

// scheduled is a step on the timeline. applied is shared by an action's
// steps: set once its first step ran, cleared once its revert did; undo
// marks the revert.
type scheduled struct {
	timed
	applied *bool
	undo    bool
}

// runActions applies the scenario's actions at their times until ctx ends.
// Reverts (the end of "for") are scheduled as steps of their own. When
// ctx ends first (the load was interrupted, or ended before a revert's
// time), every revert of an action that was applied runs at once: a run
// never leaves a stage stopped, a fault on or a bound changed behind it.
// Only this goroutine touches the timeline.
func (r *Runner) runActions(ctx context.Context, start time.Time) {
	var steps []scheduled
	for _, a := range r.cfg.Scenario.Actions {
		applied := new(bool)
		for i, st := range r.stepsFor(a) {
			steps = append(steps, scheduled{st, applied, i > 0})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	for i, st := range steps {
		t := time.NewTimer(time.Until(start.Add(st.at)))
		select {
		case <-ctx.Done():
			t.Stop()
			r.undoRest(start, steps[i:])
			return
		case <-t.C:
		}
		r.apply(start, st, fmt.Sprintf("at %v: %s", st.at, st.text))
	}
}

// apply runs one step and notes it in the change log.
// It marks the series too. A step the engine refuses is kept for the
// report, and fails the run: the scenario did not run as written.
func (r *Runner) apply(start time.Time, st scheduled, what string) {
	if err := st.do(); err != nil {
		r.cfg.Engine.Note("scenario", what+" failed: "+err.Error())
		r.mu.Lock()
		r.failed = append(r.failed, FailedAction{AtMs: ms(st.at), Action: st.text, Error: err.Error()})
		r.mu.Unlock()
		if r.series != nil {
			r.series.mark(time.Since(start), MarkerAction, st.text+" (failed: "+err.Error()+")")
		}
		return
	}
	*st.applied = !st.undo
	r.cfg.Engine.Note("scenario", what)
	if r.series != nil {
		r.series.mark(time.Since(start), MarkerAction, st.text)
	}
}

// undoRest runs the reverts of applied actions among the steps left.
func (r *Runner) undoRest(start time.Time, rest []scheduled) {
	for _, st := range rest {
		if st.undo && *st.applied {
			r.apply(start, st, fmt.Sprintf("load ended before %v: %s", st.at, st.text))
		}
	}
}

// stepsFor turns one action into its timeline steps.
func (r *Runner) stepsFor(a scenario.Action) []timed {
	e := r.cfg.Engine
	at := a.At.Std()
	const src = "scenario"
	switch {
	case a.Scale != nil:
		n := a.Scale.Workers
		return []timed{{at, fmt.Sprintf("%s scaled to %d workers", a.Scale.Stage, n), func() error {
			_, err := e.UpdateStage(src, a.Scale.Stage, engine.StagePatch{Workers: &n})
			return err
		}}}
	case a.Knobs() != nil:
		k := a.Knobs()
		kind := "set"
		if a.Fault != nil {
			kind = "fault"
		}
		var before engine.StageConfig
		steps := []timed{{at, fmt.Sprintf("%s on %s: %s", kind, k.Stage, describeOverride(k.StageOverride)), func() error {
			before, _ = e.StageConfig(k.Stage)
			_, err := e.UpdateStage(src, k.Stage, k.StageOverride.PatchFor(before))
			return err
		}}}
		if d := k.For.Std(); d > 0 {
			steps = append(steps, timed{at + d, fmt.Sprintf("%s on %s ended", kind, k.Stage), func() error {
				_, err := e.UpdateStage(src, k.Stage, restorePatch(k.StageOverride, before))
				return err
			}})
		}
		return steps
	case a.Stop != nil:
		st := a.Stop.Stage
		return []timed{
			{at, fmt.Sprintf("%s stopped for %v", st, a.Stop.For), func() error { return e.PauseStage(src, st) }},
			{at + a.Stop.For.Std(), st + " restarted", func() error { return e.ResumeStage(src, st) }},
		}
	case a.Restock != nil:
		rs := a.Restock
		return []timed{{at, fmt.Sprintf("restocked product %d with %d", rs.Product, rs.Quantity), func() error {
			if err := e.Restock(src, rs.Product, rs.Quantity); err != nil {
				return err
			}
			r.track.restocked(rs.Product) // its stock is no longer a chain the audit can check
			return nil
		}}}
	case a.Pause != nil:
		until := at + a.Pause.For.Std()
		return []timed{
			{at, fmt.Sprintf("load paused for %v", a.Pause.For), func() error {
				r.mu.Lock()
				r.pauseTill = max(r.pauseTill, until)
				r.mu.Unlock()
				return nil
			}},
			{until, "load resumed", func() error { return nil }},
		}
	case a.Backlog != nil:
		n := a.Backlog.Max
		before := -1 // unknown until the action fires
		steps := []timed{{at, "max backlog set to " + backlogText(n), func() error {
			before = e.MaxBacklog()
			return e.SetMaxBacklog(src, n)
		}}}
		if d := a.Backlog.For.Std(); d > 0 {
			steps = append(steps, timed{at + d, "max backlog restored", func() error {
				if before < 0 {
					return fmt.Errorf("the bound was never changed")
				}
				return e.SetMaxBacklog(src, before)
			}})
		}
		return steps
	}
	return nil
}

func backlogText(n int) string {
	if n == 0 {
		return "off"
	}
	return fmt.Sprint(n)
}

// restorePatch undoes exactly the knobs an override changed.
func restorePatch(o scenario.StageOverride, before engine.StageConfig) engine.StagePatch {
	var p engine.StagePatch
	if o.Workers != nil {
		p.Workers = &before.Workers
	}
	if o.Prefetch != nil {
		p.Prefetch = &before.Prefetch
	}
	if o.ServiceTime != nil {
		p.ServiceTime = &before.ServiceTime
	}
	if o.ErrorRate != nil {
		p.ErrorRate = &before.ErrorRate
	}
	if o.DeclineRate != nil {
		p.DeclineRate = &before.DeclineRate
	}
	return p
}

func describeOverride(o scenario.StageOverride) string {
	s := ""
	add := func(f string, args ...any) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf(f, args...)
	}
	if o.Workers != nil {
		add("workers %d", *o.Workers)
	}
	if o.Prefetch != nil {
		add("prefetch %d", *o.Prefetch)
	}
	if o.ServiceTime != nil {
		add("service time %v", o.ServiceTime.EngineDist())
	}
	if o.ErrorRate != nil {
		add("error rate %g", *o.ErrorRate)
	}
	if o.DeclineRate != nil {
		add("decline rate %g", *o.DeclineRate)
	}
	return s
}
