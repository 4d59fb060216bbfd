package engine

import (
	"context"
	"time"
)

// serviceTime simulates the work of a step: it sleeps for a duration
// drawn from the stage's service-time distribution. The draw is seeded by
// the run's seed and the message (drawSeed), so a run repeats whichever
// worker takes the message.
func (s *stage) serviceTime(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		in.pcg.Seed(drawSeed(s.deps.seed, in.order.OrderID, s.name, in.key, in.attempt, drawService))
		if dur := in.cfg.ServiceTime.Sample(in.rng); dur > 0 {
			time.Sleep(dur)
		}
		return next(ctx, in)
	}
}
