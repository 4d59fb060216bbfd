package engine

import "errors"

// ErrUnknownStage is returned for a stage name that is not payment,
// inventory or email.
var ErrUnknownStage = errors.New("unknown stage (valid: payment, inventory, email)")

// ErrStageElsewhere is returned for a change to a stage this process does
// not run (--role): its knobs are the processes' that run it.
var ErrStageElsewhere = errors.New("it does not run in this process (see --role); change it where it runs")

// StagePatch changes some of a stage's knobs; nil fields stay as they are.
type StagePatch struct {
	Workers     *int     `json:"workers,omitempty"`
	Prefetch    *int     `json:"prefetch,omitempty"`
	ServiceTime *Dist    `json:"service_time,omitempty"`
	ErrorRate   *float64 `json:"error_rate,omitempty"`
	DeclineRate *float64 `json:"decline_rate,omitempty"`
}

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
