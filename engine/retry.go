package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"oms-sim/engine/broker"
)

// retry turns a failed delivery into its retry or its dead letter: the
// one message the worker then publishes instead of the next step's.
func (s *stage) retry(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		out, err := next(ctx, in)
		if err == nil || errors.Is(err, errBusy) {
			return out, err
		}
		return s.failure(in.d, in.key, in.worker, err, in.arr), nil
	}
}

// failure turns an error into a retry or a dead letter. A permanent error
// is dead-lettered at once; a transient one is retried through the retry
// queues (x-attempt counts the tries) and dead-lettered once
// Config.MaxAttempts are spent.
func (s *stage) failure(d broker.Delivery, key, worker string, err error, arr arrival) outcome {
	attempt, _ := headerInt(d.Headers, HeaderAttempt)
	if attempt < 1 {
		attempt = 1
	}
	orderID := d.CorrelationID
	var perm permanent
	isPerm := errors.As(err, &perm)
	if !isPerm {
		s.stats.failed.Add(1)
	}
	if isPerm || int(attempt) >= s.deps.maxAttempts {
		reason := err.Error()
		if !isPerm {
			reason = fmt.Sprintf("gave up after %d attempts: %v", attempt, err)
		}
		s.stats.dead.Add(1)
		h := cloneHeaders(d.Headers)
		h[HeaderDeadReason] = reason
		h[HeaderDeadStage] = s.name
		h[HeaderRoutingKey] = key
		if orderID != "" {
			s.deps.emit(Event{OrderID: orderID, Type: EventDeadLettered, Stage: s.name, Worker: worker, Detail: reason,
				ServiceUS: arr.serviceUS(), Redone: arr.redone})
		}
		s.deps.report(s.name, orderID, "dead-lettered "+key+": "+reason)
		m := d.Message
		// A dead letter is persistent whatever the configured delivery
		// mode: it is the record of an order that did not finish.
		m.Exchange, m.RoutingKey, m.Headers, m.Persistent = s.deps.names.Of(ExchangeDLX), key, h, true
		m.Mandatory = true // a dead letter no queue takes must not vanish
		return outcome{msg: m}
	}
	delays := s.deps.retryDelays
	delay := delays[min(int(attempt)-1, len(delays)-1)]
	s.stats.retried.Add(1)
	h := cloneHeaders(d.Headers)
	if arr.redone {
		h[HeaderRedone] = true
	}
	h[HeaderAttempt] = attempt + 1
	h[HeaderRoutingKey] = key
	h[HeaderPublishedAt] = time.Now().Add(delay).UnixNano() // queue wait counts from when it is due
	if orderID != "" {
		s.deps.emit(Event{OrderID: orderID, Type: EventRetried, Stage: s.name, Worker: worker,
			Detail: fmt.Sprintf("attempt %d failed (%v); retry in %v", attempt, err, delay), ServiceUS: arr.serviceUS(), Redone: arr.redone})
	}
	q := s.deps.names.Retry(s.name, delay)
	m := d.Message
	m.Exchange, m.RoutingKey, m.Headers, m.Persistent = s.deps.names.Of(ExchangeRetry), q, h, !s.deps.msgs.transient
	m.Mandatory = true
	return outcome{msg: m}
}

func cloneHeaders(h map[string]any) map[string]any {
	out := make(map[string]any, len(h)+3)
	for k, v := range h {
		out[k] = v
	}
	return out
}
