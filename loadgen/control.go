package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"oms-sim/loadgen/pace"
)

// Progress implements Controller.
func (r *Runner) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.book.totals()
	p := Progress{
		State:        r.state,
		Sent:         c.Sent,
		Accepted:     c.Accepted,
		Failed:       c.Failed,
		Shed:         c.Shed,
		Dropped:      c.Dropped,
		Retries:      c.Retries,
		LateSends:    c.Late,
		InFlight:     r.inflight.Load(),
		Paused:       r.paused,
		AchievedRate: r.acceptedRate.Per(time.Second),
		SentRate:     r.sentRate.Per(time.Second),
		Limit:        r.limit,
	}
	if s := r.cfg.Scenario; s != nil {
		p.Scenario, p.Description = s.Name, s.Description
		p.Phases, p.Total = r.phases.Len(), r.phases.Duration()
		if r.state != StateIdle {
			el := min(time.Since(r.start), p.Total)
			if r.state == StateRunning {
				p.Elapsed = el
			} else {
				p.Elapsed = p.Total
			}
			i := min(r.phases.Index(p.Elapsed), p.Phases-1)
			ph := s.Phases[i]
			p.PhaseIndex, p.Phase, p.PhaseDescription = i, ph.Name, ph.Description
			p.PhaseTotal = ph.Duration.Std()
			p.PhaseElapsed = min(p.Elapsed-r.phases.Start(i), p.PhaseTotal)
			if r.state == StateRunning && !r.paused && p.Elapsed >= r.pauseTill {
				p.TargetRate = r.phases.Rate(p.Elapsed)
			}
		}
	} else {
		p.Manual = true
		p.TargetRate = r.manual
		if r.manual > 0 {
			p.State = StateRunning
			p.Elapsed = time.Since(r.start)
		}
	}
	if r.report != nil {
		p.ReportText, p.Passed = r.report.Text(), r.report.Passed
	}
	return p
}

// Pause implements Controller: sends due while paused are skipped (and
// counted), and the schedule goes on where it would have been.
func (r *Runner) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = true
	r.cfg.Engine.Note("dashboard", "load paused")
}

// Resume implements Controller.
func (r *Runner) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = false
	r.cfg.Engine.Note("dashboard", "load resumed")
}

// SetManualRate implements Controller.
func (r *Runner) SetManualRate(perSecond float64) error {
	if r.cfg.Scenario != nil {
		return errors.New("a scenario is running; its schedule sets the rate")
	}
	if perSecond < 0 || perSecond > 1e6 {
		return fmt.Errorf("rate must be 0..1000000 orders/s, got %g", perSecond)
	}
	r.mu.Lock()
	r.manual = perSecond
	r.mu.Unlock()
	r.cfg.Engine.Note("dashboard", fmt.Sprintf("load rate set to %g/s", perSecond))
	select {
	case r.manualSet <- struct{}{}:
	default:
	}
	return nil
}

// RunManual offers constant-rate load whenever SetManualRate set a rate
// above zero, until ctx ends. Each rate change starts a fresh absolute
// schedule at that rate, walked by the scenarios' send loop.
func (r *Runner) RunManual(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.progressLoop(ctx)
	}()
	for ctx.Err() == nil {
		r.mu.Lock()
		rate := r.manual
		r.mu.Unlock()
		if rate <= 0 {
			select {
			case <-ctx.Done():
			case <-r.manualSet:
			}
			continue
		}
		r.offerManual(ctx, &wg, rate)
	}
}

// offerManual paces rate from now on (pace.Steady, its own absolute
// schedule) through the send loop, until the rate changes or ctx ends.
// So manual load is late, dropped and skipped exactly as a scenario's
// is. Its sends join wg, which RunManual waits for: a rate change does
// not wait for the old rate's answers.
func (r *Runner) offerManual(ctx context.Context, wg *sync.WaitGroup, rate float64) {
	pacing, stop := context.WithCancel(ctx)
	defer stop()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-r.manualSet:
			stop()
		case <-pacing.Done():
		}
	}()
	start := time.Now()
	r.mu.Lock()
	r.start = start
	r.mu.Unlock()
	r.send(ctx, pacing, wg, start, r.paced(pace.Steady{PerSecond: rate}))
	stop()
	<-watched
}
