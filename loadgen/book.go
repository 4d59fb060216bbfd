package loadgen

import (
	"sync"
	"time"

	"oms-sim/loadgen/pace"
)

// outcome is what finally became of a sent arrival, retries included.
type outcome int

const (
	outcomeAccepted outcome = iota
	outcomeFailed           // refused (not for the backlog), indeterminate, or no answer
	outcomeShed             // refused with 503 reason backlog
)

// counts tallies arrivals by what became of them, for one phase or for
// the whole run. An arrival is skipped (a pause covered it), dropped
// (every in-flight slot was busy) or sent; a sent one ends accepted,
// failed or shed.
type counts struct {
	Sent        int64 // left for the system under test
	SentInPhase int64 // sent before the end of the phase it was due in (or on time)
	Late        int64 // left more than the late threshold after its time
	Dropped     int64 // found every in-flight slot busy and was not sent
	Skipped     int64 // due while the load was paused
	Accepted    int64
	// AcceptedInPhase are the accepted among SentInPhase: what a phase
	// achieved.
	AcceptedInPhase int64
	Failed          int64
	Shed            int64
	Retries         int64 // resends, over all arrivals
}

// book keeps the counts of each phase and of the run. Arrivals outside
// any phase (manual load, phase -1) count in the total only.
type book struct {
	mu     sync.Mutex
	ends   []time.Duration // each phase's end, from the run's start
	phases []counts
	total  counts
}

// newBook returns a book for p's phases; p may be nil (manual load).
func newBook(p *pace.Phases) *book {
	b := &book{}
	if p != nil {
		b.ends = make([]time.Duration, p.Len())
		b.phases = make([]counts, p.Len())
		for i := range b.ends {
			b.ends[i] = p.Start(i) + p.Phase(i).Duration
		}
	}
	return b
}

// add applies f to phase i's counts (if it is one) and to the total.
func (b *book) add(i int, f func(*counts)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i >= 0 && i < len(b.phases) {
		f(&b.phases[i])
	}
	f(&b.total)
}

// overdue counts the arrivals sent late and after the end of the phase
// they were due in: every other send is in phase.
func (c counts) overdue() int64 { return c.Sent - c.SentInPhase }

func (b *book) skip(phase int) { b.add(phase, func(c *counts) { c.Skipped++ }) }
func (b *book) drop(phase int) { b.add(phase, func(c *counts) { c.Dropped++ }) }

// send counts an arrival due in phase that left at sentAt (from the run's
// start), and reports whether it counts as sent within its phase: it left
// before the phase ended, or on time (not late), so that scheduler jitter
// on the last arrival of a phase does not make it overdue.
func (b *book) send(phase int, sentAt time.Duration, late bool) (inPhase bool) {
	inPhase = phase < 0 || phase >= len(b.ends) || sentAt < b.ends[phase] || !late
	b.add(phase, func(c *counts) {
		c.Sent++
		if inPhase {
			c.SentInPhase++
		}
		if late {
			c.Late++
		}
	})
	return inPhase
}

// done counts a sent arrival's final outcome and its resends.
func (b *book) done(phase int, inPhase bool, o outcome, retries int) {
	b.add(phase, func(c *counts) {
		c.Retries += int64(retries)
		switch o {
		case outcomeAccepted:
			c.Accepted++
			if inPhase {
				c.AcceptedInPhase++
			}
		case outcomeShed:
			c.Shed++
		default:
			c.Failed++
		}
	})
}

// totals returns the run's counts.
func (b *book) totals() counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// perPhase returns a copy of each phase's counts.
func (b *book) perPhase() []counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]counts(nil), b.phases...)
}
