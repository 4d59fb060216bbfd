package engine

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine/broker"
)

// step is the domain logic of one hop: given a decoded order arriving on a
// stage with routing key key, what message goes out and what happened.
// It runs once per message id (redeliveries are answered from memory), so
// charging and taking stock here happen at most once per order.
func (e *Engine) step(w *worker, stage, key string, o Order, cfg StageConfig) (outcome, error) {
	ev := func(typ, detail string) Event {
		return Event{OrderID: o.OrderID, Type: typ, Stage: stage, Worker: w.name, Time: time.Now(), Detail: detail}
	}
	st := &w.s.stats
	switch stage + " " + key {
	case StagePayment + " " + KeyOrderCreated:
		price, ok := e.inv.price(o.ProductID)
		if !ok {
			return outcome{}, permanent{fmt.Errorf("unknown product %d", o.ProductID)}
		}
		o.AmountCents = price * int64(o.Quantity)
		// Whatever the attempt: a retried payment decides as the first would have.
		if cfg.DeclineRate > 0 && drawUniform(e.cfg.Seed, o.OrderID, stage, key, 0, drawDecline) < cfg.DeclineRate {
			st.declined.Add(1)
			o.Reason = "card declined"
			return e.next(o, KeyPaymentFailed, ev(EventDeclined, fmt.Sprintf("%s charging %s", o.Reason, cents(o.AmountCents)))), nil
		}
		paid := ev(EventPaid, "charged "+cents(o.AmountCents))
		charged := o
		paid.Order = &charged // the store learns the amount
		return e.next(o, KeyPaymentSuccess, paid), nil

	case StagePayment + " " + KeyInventoryFailed:
		st.refunds.Add(1)
		o.Reason = "out of stock"
		return e.next(o, KeyPaymentRefunded, ev(EventRefunded, "refunded "+cents(o.AmountCents))), nil

	case StageInventory + " " + KeyPaymentSuccess:
		left, ok := e.inv.take(o.ProductID, o.Quantity)
		if !ok {
			st.short.Add(1)
			o.Reason = fmt.Sprintf("out of stock: wanted %d of product %d, %d left", o.Quantity, o.ProductID, left)
			return e.next(o, KeyInventoryFailed, ev(EventOutOfStock, o.Reason)), nil
		}
		return e.next(o, KeyInventoryUpdated, ev(EventStockTaken, fmt.Sprintf("took %d of product %d, %d left", o.Quantity, o.ProductID, left))), nil

	case StageEmail + " " + KeyInventoryUpdated, StageEmail + " " + KeyPaymentFailed, StageEmail + " " + KeyPaymentRefunded:
		mail, err := renderEmail(key, o)
		if err != nil {
			return outcome{}, permanent{err}
		}
		if err := e.sink.Send(mail); err != nil {
			return outcome{}, fmt.Errorf("send email: %w", err) // transient: retried
		}
		typ := EventEmailSent
		if key == KeyInventoryUpdated {
			typ = EventConfirmed
		}
		return e.next(o, KeyEmailSent, ev(typ, mail.Subject+" → "+mail.To)), nil
	}
	return outcome{}, permanent{fmt.Errorf("stage %s does not handle routing key %q", stage, key)}
}

// next builds the outgoing message for key carrying order o.
func (e *Engine) next(o Order, key string, events ...Event) outcome {
	return outcome{msg: e.message(o, key), events: events}
}

// message builds a message as DESIGN.md §3 specifies its properties, with
// the configured body size and delivery mode.
func (e *Engine) message(o Order, key string) broker.Message {
	body := o.AppendJSONPadded(make([]byte, 0, max(256, e.cfg.BodyBytes)), e.cfg.BodyBytes)
	now := time.Now()
	return broker.Message{
		Exchange:      e.ordersX,
		RoutingKey:    key,
		ContentType:   "application/json",
		MessageID:     o.OrderID + ":" + key,
		CorrelationID: o.OrderID,
		Timestamp:     now,
		Persistent:    !e.cfg.Transient,
		// Mandatory: a message no queue takes comes back instead of
		// being confirmed and dropped — except email.sent, the end of
		// the pipeline, which nothing consumes.
		Mandatory: key != KeyEmailSent,
		Headers: map[string]any{
			HeaderPublishedAt: now.UnixNano(),
			HeaderAttempt:     int64(1),
		},
		Body: body,
	}
}

func cents(c int64) string { return fmt.Sprintf("$%d.%02d", c/100, c%100) }

// newOrderID returns a time-ordered UUIDv7.
func newOrderID() string { return uuid.Must(uuid.NewV7()).String() }
