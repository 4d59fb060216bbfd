package engine

import (
	"context"
	"fmt"
	"time"
)

// inbox is dedupe (dedupe.go) for a shared state: the memory of handled
// messages is a table every process of the pipeline writes, in the same
// transaction as the handling's effects (a charge, a stock take). So a
// redelivery — to any process, before or after a crash or a restart —
// repeats the recorded outcome and does not do the work again.
//
// The transaction: claim the message id (a second claimer waits until
// the first commits, then finds the outcome); run the handler with the
// transaction in ctx, so that the State's writes join it; record the
// message the outcome sends on; commit. The worker publishes only then: a
// crash between the commit and the publish (or the ack) leads to a
// redelivery that the inbox answers. A failed transaction is a transient
// error, retried through the retry queues like any other; its writes
// never happened, and neither did its events (they are logged once the
// commit succeeds).
//
// The simulated service time runs inside the transaction: its database
// connection is held for the whole handling, as a service that does its
// work in the transaction holds it.
//
// Without a message id (a publisher that knows only the seed's format) a
// redelivery cannot be told from a new order: such messages are handled
// without an inbox row (their writes still happen at most once per order:
// the tables are keyed by order).
func (s *stage) inbox(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		msgID := in.d.MessageID
		if msgID == "" {
			return next(ctx, in)
		}
		ctx, cancel := context.WithTimeout(ctx, inboxTimeout)
		defer cancel()
		tx, rec, found, err := s.deps.inbox.Claim(ctx, s.name, msgID, in.d.CorrelationID)
		if err != nil {
			return outcome{}, fmt.Errorf("inbox claim: %w", err)
		}
		if found {
			return s.repeatInbox(rec, in), nil
		}
		in.deferred = true
		out, err := next(tx.Context(ctx), in)
		if err != nil {
			tx.Rollback(ctx)
			return out, err
		}
		r := s.deps.msgs.remember(out.msg)
		if err := tx.Commit(ctx, r.key, r.body); err != nil {
			tx.Rollback(ctx)
			// If the commit happened after all (the answer was lost), the
			// retry finds the outcome in the inbox.
			return outcome{}, fmt.Errorf("inbox commit: %w", err)
		}
		s.settle(out)
		return out, nil
	}
}

// inboxTimeout bounds one message's inbox transaction, service time
// included: a database that stops answering turns into retries, not
// stuck workers.
const inboxTimeout = 30 * time.Second

// repeatInbox answers a duplicate delivery with the outcome recorded in
// the inbox, as repeat does with a remembered one.
func (s *stage) repeatInbox(rec InboxRecord, in *inbound) outcome {
	s.stats.redelivered.Add(1)
	s.stats.inboxHits.Add(1)
	orderID := in.d.CorrelationID
	s.deps.emit(Event{OrderID: orderID, Type: EventRedelivered, Stage: s.name, Worker: in.worker,
		Detail: InboxDetail + ": duplicate " + in.key + " delivery, handled before (by this or another process); outcome repeated, work not redone"})
	m := s.deps.msgs.resend(remembered{key: rec.Key, orderID: orderID, body: rec.Body})
	m.Headers[HeaderRedone] = true
	return outcome{msg: m}
}
