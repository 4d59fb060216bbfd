package engine

import (
	"context"
	"time"
)

// serviceTime simulates the work of a step: it sleeps for a duration
// drawn from the stage's service-time distribution. The draw is seeded by
// the run's seed and the message (drawSeed, keyed on the order's draw
// key when it has one), so a run repeats whichever worker takes the
// message.
func (s *stage) serviceTime(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		in.pcg.Seed(drawSeed(s.deps.seed, in.order.drawID(), s.name, in.key, in.attempt, drawService))
		dur := in.cfg.ServiceTime.Sample(in.rng)
		if s.deps.drawn != nil {
			s.deps.drawn(in.order, s.name, in.key, in.attempt, dur)
		}
		if dur > 0 {
			time.Sleep(dur)
		}
		return next(ctx, in)
	}
}
