package pace

import (
	"context"
	"math"
	"time"
)

// Pacer decides when sends happen, vegeta-style.
type Pacer interface {
	// Pace returns how long to wait before send number sent (counting from
	// 0), given the time elapsed since the start of the run. A wait of 0
	// means the send is due or overdue: send now. stop is true when the
	// schedule has no more sends.
	Pace(elapsed time.Duration, sent uint64) (wait time.Duration, stop bool)
}

// Steady is an endless Pacer at one rate, with the uniform arrivals of a
// Constant phase: send n is due when the rate's integral reaches n + ½,
// at (n+½)/PerSecond from the start. Manual load runs one from each rate
// change, so that a change restarts the absolute schedule. A rate that is
// not above zero (or not finite) has no sends.
type Steady struct {
	PerSecond float64
}

var _ Pacer = Steady{}

// Pace implements Pacer.
func (s Steady) Pace(elapsed time.Duration, sent uint64) (time.Duration, bool) {
	if !(s.PerSecond > 0) || math.IsInf(s.PerSecond, 0) {
		return 0, true
	}
	x := (float64(sent) + 0.5) / s.PerSecond
	if x >= math.MaxInt64/1e9 {
		return 0, true // beyond what a Duration holds: the schedule is over
	}
	if at := seconds(x); at > elapsed {
		return at - elapsed, false
	}
	return 0, false // due or overdue: catch up without waiting
}

// Schedule walks a Pacer's sends in order, yielding each one's intended
// time from the start of the run. It is not safe for concurrent use.
type Schedule struct {
	p    Pacer
	n    uint64
	done bool
}

// NewSchedule returns a Schedule over p.
func NewSchedule(p Pacer) *Schedule { return &Schedule{p: p} }

// Next returns the intended time of the next send, and false once the
// schedule is over. The driver sleeps until that time (see SleepUntil) and
// sends even when it is already past: a late send is counted, never
// skipped, and its latency still counts from the intended time.
func (s *Schedule) Next() (at time.Duration, ok bool) {
	if s.done {
		return 0, false
	}
	// With elapsed = 0 the wait is the intended time itself.
	at, stop := s.p.Pace(0, s.n)
	if stop {
		s.done = true
		return 0, false
	}
	s.n++
	return at, true
}

// Sent returns how many send times Next has yielded.
func (s *Schedule) Sent() uint64 { return s.n }

// DefaultLateThreshold is how far past its intended time a send may leave
// before it counts as late (late_sends). It is well above timer and
// scheduler jitter, so a late send means the generator itself fell behind.
const DefaultLateThreshold = 10 * time.Millisecond

// SleepUntil waits until start+at, or until ctx is done, and returns how
// far past the intended time it is on return (0 when on time). A driver
// counts a late send when late exceeds its threshold, then sends anyway.
// start must come from time.Now so that the monotonic clock is used.
func SleepUntil(ctx context.Context, start time.Time, at time.Duration) (late time.Duration, err error) {
	if d := at - time.Since(start); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return 0, err
	}
	return max(time.Since(start)-at, 0), nil
}
