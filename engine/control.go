package engine

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnknownStage is returned for a stage name that is not payment,
// inventory or email.
var ErrUnknownStage = errors.New("unknown stage (valid: payment, inventory, email)")

// ErrStageElsewhere is returned for a change to a stage this process does
// not run (--role): its knobs are the processes' that run it.
var ErrStageElsewhere = errors.New("it does not run in this process (see --role); change it where it runs")

// Control is how the dashboard, the admin API and scenario actions steer a
// running engine. Every method is safe for concurrent use and returns
// quickly: resizing happens in the background without losing or
// duplicating in-flight messages. source names the caller in the change
// log ("dashboard", "api", "scenario").
type Control interface {
	// UpdateStage applies a patch and returns the stage's new knobs.
	UpdateStage(source, stage string, p StagePatch) (StageConfig, error)
	// PauseStage stops a stage consuming (its queue builds up);
	// ResumeStage starts it again. Pausing also serves "stop a stage
	// for a while".
	PauseStage(source, stage string) error
	ResumeStage(source, stage string) error
	// Restock adds quantity to a product's stock (product 0: all).
	Restock(source string, product, quantity int) error
	// SetMaxBacklog changes the API's admission bound: the ready messages
	// in the work queues above which new orders are answered 503 (0: off).
	SetMaxBacklog(source string, n int) error
	// Note records a change made outside the engine (e.g. "load paused")
	// in the change log.
	Note(source, text string)
}

var _ Control = (*Engine)(nil)

// Reader is the read side: what the dashboard and reports poll.
type Reader interface {
	Snapshot() Snapshot
	Order(id string) (OrderRecord, bool)
	Orders(q OrderQuery) ([]OrderRecord, int)
	Inventory() []ProductStock
}

var _ Reader = (*Engine)(nil)

// UpdateStage implements Control.
func (e *Engine) UpdateStage(source, name string, p StagePatch) (StageConfig, error) {
	s, err := e.runningStage(name)
	if err != nil {
		return StageConfig{}, err
	}
	old, now, err := s.update(p)
	if err != nil {
		return old, fmt.Errorf("stage %s: %w", name, err)
	}
	for _, c := range describeChanges(name, old, now) {
		e.note(source, c)
	}
	return now, nil
}

// runningStage returns the stage named name if this process runs it: the
// knobs of a stage that runs elsewhere are the other processes'.
func (e *Engine) runningStage(name string) (*stage, error) {
	s, ok := e.stages[name]
	if !ok {
		return nil, fmt.Errorf("stage %q: %w", name, ErrUnknownStage)
	}
	if !e.cfg.HasRole(name) {
		return nil, fmt.Errorf("stage %s: %w", name, ErrStageElsewhere)
	}
	return s, nil
}

// StageConfig returns a stage's current knobs, cheaply (no snapshot).
func (e *Engine) StageConfig(name string) (StageConfig, bool) {
	s, ok := e.stages[name]
	if !ok {
		return StageConfig{}, false
	}
	return s.config(), true
}

// PauseStage implements Control.
func (e *Engine) PauseStage(source, name string) error {
	return e.pauseStage(source, name, true, " stopped consuming")
}

// ResumeStage implements Control.
func (e *Engine) ResumeStage(source, name string) error {
	return e.pauseStage(source, name, false, " resumed")
}

// pauseStage pauses or resumes the running stage name and notes it as
// the stage's name followed by what.
func (e *Engine) pauseStage(source, name string, paused bool, what string) error {
	s, err := e.runningStage(name)
	if err != nil {
		return err
	}
	s.setPaused(paused)
	e.note(source, name+what)
	return nil
}

// Restock implements Control.
func (e *Engine) Restock(source string, product, quantity int) error {
	if quantity < 1 || quantity > MaxRestock {
		return fmt.Errorf("restock quantity must be 1..%d, got %d", MaxRestock, quantity)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stockReadTimeout)
	defer cancel()
	if err := e.state.Restock(ctx, product, quantity); err != nil {
		return err
	}
	e.refreshStock(ctx)
	what := fmt.Sprintf("product %d", product)
	if product == 0 {
		what = "every product"
	}
	e.note(source, fmt.Sprintf("restocked %s with %d", what, quantity))
	return nil
}

// ResetStats zeroes latency histograms and order counts (the load
// generator calls it when a run starts, so a report covers only the run).
func (e *Engine) ResetStats() {
	for _, s := range e.stages {
		s.stats.queueWait.Reset()
		s.stats.service.Reset()
	}
	e.store.reset()
	e.ledger.reset()
	e.mon.resetPeaks()
}

// changeLogSize bounds the change and error logs.
const changeLogSize = 50

type ring[T any] struct {
	items []T
	max   int
}

func (r *ring[T]) push(v T) {
	if len(r.items) == r.max {
		copy(r.items, r.items[1:])
		r.items = r.items[:r.max-1]
	}
	r.items = append(r.items, v)
}

// newestFirst returns a copy, newest first.
func (r *ring[T]) newestFirst() []T {
	out := make([]T, len(r.items))
	for i, v := range r.items {
		out[len(r.items)-1-i] = v
	}
	return out
}
