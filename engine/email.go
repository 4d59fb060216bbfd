package engine

import (
	"context"
	"fmt"
)

// The email stage: it tells the customer how the order ended — confirmed
// (inventory.updated), declined (payment.failed) or refunded
// (payment.refunded) — through the configured sink.

// newEmail handles each of the three keys: the email depends on the key.
func newEmail(env Env) Handler {
	typ := EventEmailSent
	if env.Key == KeyInventoryUpdated {
		typ = EventConfirmed
	}
	return func(_ context.Context, o Order) (Outcome, error) {
		mail, err := renderEmail(env.Key, o)
		if err != nil {
			return Outcome{}, Permanent(err)
		}
		if err := env.Sink.Send(mail); err != nil {
			return Outcome{}, fmt.Errorf("send email: %w", err) // transient: retried
		}
		return Next(o, KeyEmailSent, typ, mail.Subject+" → "+mail.To), nil
	}
}
