package engine

import (
	"context"
	"fmt"
)

// The payment stage: it charges an order (order.created), or declines it
// at the configured decline rate, and refunds one that ran out of stock
// (inventory.failed).

// newCharge handles order.created: price the order and charge it.
func newCharge(env Env) Handler {
	return func(ctx context.Context, o Order) (Outcome, error) {
		price, ok := env.state.Price(o.ProductID)
		if !ok {
			return Outcome{}, Permanent(fmt.Errorf("unknown product %d", o.ProductID))
		}
		o.AmountCents = price * int64(o.Quantity)
		// Whatever the attempt: a retried payment decides as the first would have.
		if rate := env.Knobs().DeclineRate; rate > 0 && drawUniform(env.Seed, o.drawID(), env.Stage, env.Key, 0, drawDecline) < rate {
			o.Reason = "card declined"
			return Next(o, KeyPaymentFailed, EventDeclined, fmt.Sprintf("%s charging %s", o.Reason, cents(o.AmountCents))), nil
		}
		if err := env.state.Charge(ctx, o.OrderID, o.AmountCents); err != nil {
			return Outcome{}, fmt.Errorf("charge: %w", err) // transient: retried
		}
		out := Next(o, KeyPaymentSuccess, EventPaid, "charged "+cents(o.AmountCents))
		charged := o
		out.Event.Order = &charged // the store learns the amount
		return out, nil
	}
}

// newRefund handles inventory.failed: give the money back.
func newRefund(env Env) Handler {
	return func(ctx context.Context, o Order) (Outcome, error) {
		if err := env.state.Refund(ctx, o.OrderID, o.AmountCents); err != nil {
			return Outcome{}, fmt.Errorf("refund: %w", err) // transient: retried
		}
		o.Reason = "out of stock"
		return Next(o, KeyPaymentRefunded, EventRefunded, "refunded "+cents(o.AmountCents)), nil
	}
}

func cents(c int64) string { return fmt.Sprintf("$%d.%02d", c/100, c%100) }
