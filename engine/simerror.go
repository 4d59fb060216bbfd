package engine

import (
	"context"
	"errors"
)

var errTransient = errors.New("simulated transient error")

// simErrors fails a share of deliveries (the stage's error rate) with a
// transient error, retried like a real one. Each attempt draws anew.
func (s *stage) simErrors(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		if rate := in.cfg.ErrorRate; rate > 0 && drawUniform(s.deps.seed, in.order.drawID(), s.name, in.key, in.attempt, drawError) < rate {
			return outcome{}, errTransient
		}
		return next(ctx, in)
	}
}
