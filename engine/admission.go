package engine

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// DefaultMaxBacklog is the backlog above which the API sheds orders when
// the user sets nothing (the --max-backlog flag's default; a Config built
// in code has 0, off). 10,000 ready messages is about three seconds of
// work for this pipeline at its measured ceiling on a small host (~3,500
// orders/s through three hops, bench/RESULTS.md): past that, every order
// accepted only waits longer in a queue, so answering 503 early is kinder
// to the client than accepting work that will miss any sensible deadline.
// The shipped scenarios stay below it unless they mean to overload.
const DefaultMaxBacklog = 10_000

// admission decides whether the API takes a new order: it sheds while the
// ready messages of the pipeline's work queues exceed a bound.
type admission struct {
	max  atomic.Int64 // 0: off
	shed atomic.Int64 // orders answered 503 because of the backlog
}

// AdmissionStatus is the API's admission control in a snapshot.
type AdmissionStatus struct {
	// MaxBacklog is the bound on ready messages in the work queues above
	// which POST /api/orders answers 503; 0 means admission control is
	// off.
	MaxBacklog int `json:"max_backlog"`
	// Backlog is the ready messages of oms.payment, oms.inventory and
	// oms.email at the last poll (4 Hz).
	Backlog int `json:"backlog"`
	// Shedding is true while Backlog exceeds MaxBacklog.
	Shedding bool `json:"shedding"`
	// Shed counts orders refused because of the backlog since start.
	Shed int64 `json:"shed"`
}

// ErrShed means the API refused an order because the pipeline's backlog
// is above --max-backlog; nothing was published.
var ErrShed = errors.New("backlog above the admission bound")

// SetMaxBacklog changes the admission bound (0 turns shedding off) while
// the engine runs.
func (e *Engine) SetMaxBacklog(source string, n int) error {
	if n < 0 {
		return fmt.Errorf("max backlog must be 0 (off) or more, got %d", n)
	}
	old := e.adm.max.Swap(int64(n))
	if old != int64(n) {
		e.note(source, fmt.Sprintf("max backlog %s → %s", backlogText(old), backlogText(int64(n))))
	}
	return nil
}

// MaxBacklog returns the admission bound (0: off).
func (e *Engine) MaxBacklog() int { return int(e.adm.max.Load()) }

func backlogText(n int64) string {
	if n == 0 {
		return "off"
	}
	return fmt.Sprint(n)
}

// Admit applies admission control to a new order: it reports whether the
// order may be taken now, and the backlog and bound it was judged on. A
// refusal is counted as shed (Snapshot's admission.shed); the caller
// answers it (POST /api/orders: 503 with reason backlog).
func (e *Engine) Admit() (ok bool, backlog, limit int) {
	limit = int(e.adm.max.Load())
	if limit == 0 {
		return true, 0, 0
	}
	backlog = e.mon.backlog()
	if backlog > limit {
		e.adm.shed.Add(1)
		return false, backlog, limit
	}
	return true, backlog, limit
}

func (e *Engine) admissionStatus() AdmissionStatus {
	limit := int(e.adm.max.Load())
	b := e.mon.backlog()
	return AdmissionStatus{MaxBacklog: limit, Backlog: b, Shedding: limit > 0 && b > limit, Shed: e.adm.shed.Load()}
}
