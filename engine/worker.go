package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"oms-sim/engine/broker"
)

// worker is one goroutine of a stage with its own channel and consumer.
//
// It is pipelined: it handles a delivery, publishes the outgoing message
// without waiting for the broker's confirm, and goes on to the next
// delivery. A second goroutine (the acker) waits for the confirms in
// publish order and acks each delivery only once its outgoing message is
// safe. So a worker keeps up to prefetch deliveries in flight, and a
// message is never acked before its successor exists.
type worker struct {
	s        *stage
	name     string
	prefetch int
	// rng draws service times from pcg, which is re-seeded for each
	// message from the seed and the order (drawSeed), never carried
	// from one message to the next.
	rng *rand.Rand
	pcg *rand.PCG

	stopOnce sync.Once
	stopping chan struct{} // closed by stop: drain and exit
	// ctx ends with stop; in the per-worker layout it bounds dialling
	// and the backoff between reconnects.
	ctx    context.Context
	cancel context.CancelFunc
}

func newWorker(s *stage, id, prefetch int) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	pcg := rand.NewPCG(0, 0)
	return &worker{
		ctx:      ctx,
		cancel:   cancel,
		s:        s,
		name:     fmt.Sprintf("%s-%d", s.name, id),
		prefetch: prefetch,
		rng:      rand.New(pcg),
		pcg:      pcg,
		stopping: make(chan struct{}),
	}
}

// stop asks the worker to drain and exit; it does not wait.
func (w *worker) stop() {
	w.stopOnce.Do(func() {
		close(w.stopping)
		w.cancel()
	})
}

// session runs the worker on a connection of its own (the per-worker
// layout) until it is stopped and drained, or its channel dies; the
// supervisor then reconnects unless it was stopped.
func (w *worker) session(_ context.Context, conn broker.Conn) error {
	return w.run(conn)
}

// pending is a handled delivery waiting for its outgoing confirm.
type pending struct {
	tag     uint64
	confirm broker.Confirm
	stored  <-chan struct{} // closed once its events are stored; nil: nothing to wait for
	// What a retry needs if the broker refuses the outgoing message.
	d   broker.Delivery
	key string
	out string // the outgoing message's routing key
	arr arrival
}

// storeWait bounds how long an ack waits for the event log to store the
// delivery's events. Past it (the stream unreachable that long) the
// delivery is acked anyway, so that the pipeline keeps going, and counted
// as acked unrecorded: a crash then could cost the audit its events.
const storeWait = 10 * time.Second

// run consumes until stopped or the channel dies.
func (w *worker) run(conn broker.Conn) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	tag := w.s.e.cfg.Process + "/" + w.name
	deliveries, err := ch.Consume(w.s.queue, tag, w.prefetch)
	if err != nil {
		return fmt.Errorf("consume %s: %w", w.s.queue, err)
	}

	acks := make(chan pending, w.prefetch)
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		w.ack(ch, acks)
	}()
	defer func() {
		close(acks)
		<-ackerDone
	}()

	stopping := w.stopping
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				if stopping == nil {
					return nil // cancelled and drained
				}
				return errors.New("delivery channel closed")
			}
			w.handle(ch, d, acks)
		case <-stopping:
			stopping = nil
			// Stop new deliveries; those already buffered still come
			// through the channel and are handled before it closes.
			if err := ch.Cancel(tag); err != nil {
				return nil // the channel is gone; the broker requeues
			}
		case <-ch.Closed():
			return nil
		}
	}
}

// Ack batching: confirmed deliveries are acked together, one basic.ack
// with multiple for the highest tag, at most ackLinger after the first of
// them was confirmed or once ackBatch are waiting. Every frame is a write
// syscall in amqp091 (27 % of the client's CPU pinned, bench/RESULTS.md
// §17); acking at once found a second confirmed delivery only rarely.
const (
	ackBatch  = 64
	ackLinger = time.Millisecond
)

// ack waits for confirms in order and acks (or requeues) the deliveries.
// A multiple ack is safe here: tags reach this loop in delivery order, and
// a delivery settled elsewhere (a requeue in handle) is settled before any
// later tag arrives.
func (w *worker) ack(ch broker.Channel, acks <-chan pending) {
	st := &w.s.stats
	var last uint64
	n := 0 // confirmed deliveries not acked yet, up to last
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	var due <-chan time.Time // linger.C while n > 0
	storeTimer := time.NewTimer(time.Hour)
	storeTimer.Stop()
	defer storeTimer.Stop()
	flush := func() {
		if n == 0 {
			return
		}
		if err := ch.AckUpTo(last); err != nil {
			st.ackErrors.Add(1)
		}
		st.inflight.Add(-int64(n))
		n, due = 0, nil
		linger.Stop()
	}
	for {
		var p pending
		var ok bool
		select {
		case p, ok = <-acks:
		case <-due:
			flush()
			continue
		}
		if !ok {
			flush()
			return
		}
		<-p.confirm.Done() // completes (not acked) if the channel dies
		if p.confirm.Acked() {
			w.awaitStored(p.stored, storeTimer)
			last = p.tag
			n++
			switch {
			case n >= ackBatch:
				flush()
			case n == 1:
				linger.Reset(ackLinger)
				due = linger.C
			}
			continue
		}
		flush()
		w.refused(ch, p)
		st.inflight.Add(-1)
	}
}

// errRefused is the failure of a delivery whose outgoing message the
// broker nacked (a queue at its length limit with reject-publish, an
// internal error).
var errRefused = errors.New("the broker refused (nacked) the outgoing message")

// refused settles a delivery whose outgoing message was not confirmed.
// If the channel died, the broker requeues the delivery by itself.
// Otherwise the broker nacked it: the delivery goes through the retry
// ladder like any transient failure — with its attempt count, and to the
// dead letters once the attempts are spent — so that a broker refusing a
// route neither drops the order nor spins it through requeues for ever.
// The work already done is remembered: the retry repeats its outcome.
func (w *worker) refused(ch broker.Channel, p pending) {
	st := &w.s.stats
	select {
	case <-ch.Closed():
		return
	default:
	}
	out := w.failure(p.d, p.key, w.refusal(p), p.arr)
	c, err := ch.Publish(context.Background(), out.msg)
	if err == nil {
		<-c.Done()
		if c.Acked() {
			if err := ch.Ack(p.tag); err != nil {
				st.ackErrors.Add(1)
			}
			return
		}
	}
	// Even the retry or dead letter was refused: requeue, after a pause
	// so that a broker refusing everything is not asked again at once.
	w.s.e.reportError(w.s.name, p.d.CorrelationID, "the broker refused the retry of "+p.key+" too; requeued")
	time.Sleep(refusedPause)
	if err := ch.Nack(p.tag, true); err != nil {
		st.ackErrors.Add(1)
	}
}

// refusedPause is how long a worker waits before requeueing a delivery
// whose retry the broker refused as well.
const refusedPause = 100 * time.Millisecond

// awaitStored waits until the events of a delivery are stored, at most
// storeWait.
func (w *worker) awaitStored(stored <-chan struct{}, t *time.Timer) {
	if stored == nil {
		return
	}
	select {
	case <-stored:
		return
	default:
	}
	t.Reset(storeWait)
	select {
	case <-stored:
		t.Stop()
	case <-t.C:
		w.s.stats.unrecorded.Add(1)
		w.s.e.reportError(w.s.name, "", fmt.Sprintf("acked a delivery whose events the log had not stored after %v", storeWait))
	}
}

// handle processes one delivery and queues its ack behind the confirm of
// the one message it publishes: the next step, a retry or a dead letter.
func (w *worker) handle(ch broker.Channel, d broker.Delivery, acks chan<- pending) {
	s, st := w.s, &w.s.stats
	arr := arrival{at: time.Now(), wait: -1, redone: d.Redelivered}
	if r, ok := d.Headers[HeaderRedone].(bool); ok && r {
		arr.redone = true
	}
	st.delivered.Add(1)
	st.inflight.Add(1)
	if ns, ok := headerInt(d.Headers, HeaderPublishedAt); ok && ns > 0 {
		arr.wait = arr.at.Sub(time.Unix(0, ns))
		st.queueWait.record(arr.wait)
	}
	key := d.RoutingKey
	if k, ok := d.Headers[HeaderRoutingKey].(string); ok && k != "" {
		key = k
	}
	// Without a message id (a publisher that knows only the seed's
	// format) a redelivery cannot be told from a new order, so such
	// messages are not deduplicated.
	msgID := d.MessageID

	out, err := w.process(d, key, msgID, arr)
	if errors.Is(err, errBusy) {
		// Requeue: by the time it comes back the other worker is done
		// and the outcome is remembered.
		st.inflight.Add(-1)
		if err := ch.Nack(d.Tag, true); err != nil {
			st.ackErrors.Add(1)
		}
		return
	}
	if err != nil {
		out = w.failure(d, key, err, arr)
	}
	st.service.record(time.Since(arr.at))
	st.handled.Add(1)

	c, perr := ch.Publish(context.Background(), out.msg)
	if perr != nil {
		// Nothing was published: put the delivery back for another try.
		st.inflight.Add(-1)
		if err := ch.Nack(d.Tag, true); err != nil {
			st.ackErrors.Add(1)
		}
		s.e.reportError(s.name, "", fmt.Sprintf("publish %s: %v", out.msg.RoutingKey, perr))
		return
	}
	acks <- pending{tag: d.Tag, confirm: c, stored: s.e.eventsStored(), d: d, key: key, out: out.msg.RoutingKey, arr: arr}
}

// outcome is what handling a message produced: the one message to publish
// and the events to log. It is remembered by message id so that a
// redelivery publishes the same message again without redoing the work.
type outcome struct {
	msg    broker.Message
	events []Event
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

// arrival is when a delivery reached its worker and how long it had
// waited in the queue (-1: unknown, the publisher did not say).
type arrival struct {
	at   time.Time
	wait time.Duration
	// redone: the message was redelivered (or published by work that
	// was), so what this worker does may have been done before by a
	// process that crashed or lost its connection before its ack.
	redone bool
}

// serviceUS is the time since the worker took the message, in µs (≥ 1).
func (a arrival) serviceUS() int64 { return max(1, time.Since(a.at).Microseconds()) }

// process runs the stage's logic: dedupe, decode, service time, simulated
// transient errors, the domain step.
func (w *worker) process(d broker.Delivery, key, msgID string, arr arrival) (outcome, error) {
	s := w.s
	if msgID != "" {
		r, seen := s.seen.claim(msgID)
		switch {
		case seen && r.busy:
			return outcome{}, errBusy
		case seen:
			return w.repeat(r, key), nil
		}
	}
	out, err := w.work(d, key, arr)
	if err != nil && msgID != "" {
		s.seen.release(msgID)
	}
	if err == nil && msgID != "" {
		s.seen.put(msgID, s.e.remember(out.msg))
	}
	return out, err
}

// errBusy means another worker is handling the same message right now.
var errBusy = errors.New("the same message is being handled by another worker")

// repeat answers a duplicate delivery with the remembered outcome.
func (w *worker) repeat(r remembered, key string) outcome {
	s := w.s
	s.stats.redelivered.Add(1)
	s.e.emit(Event{OrderID: r.orderID, Type: EventRedelivered, Stage: s.name, Worker: w.name,
		Detail: "duplicate " + key + " delivery; outcome repeated, work not redone"})
	m := s.e.resend(r)
	// A second copy of the outgoing message: the next stage, in another
	// process, may do its work again — redone, not a duplicated order.
	m.Headers[HeaderRedone] = true
	return outcome{msg: m}
}

// work decodes and handles a message for the first time.
func (w *worker) work(d broker.Delivery, key string, arr arrival) (outcome, error) {
	s := w.s
	o, err := DecodeOrder(d.Body)
	if err != nil {
		return outcome{}, permanent{err}
	}
	if o.OrderID == "" {
		// A message from a publisher that knows only the seed's fields:
		// give it a stable id and make it an order of ours.
		o.OrderID = newOrderID()
		if o.CreatedAt.IsZero() {
			o.CreatedAt = time.Now()
		}
		ord := o
		s.e.emit(Event{OrderID: o.OrderID, Type: EventAccepted, Stage: RoleAPI, Worker: w.name, Time: o.CreatedAt,
			Detail: "published without order_id (seed format)", Order: &ord})
	}
	started := Event{OrderID: o.OrderID, Type: s.started, Stage: s.name, Worker: w.name, Time: arr.at,
		Detail: startedDetail(key, arr.wait, d.Headers), Redone: arr.redone}
	if arr.wait >= 0 {
		started.WaitUS = max(1, arr.wait.Microseconds())
	}
	s.e.emit(started)
	cfg := s.config()
	seed := s.e.cfg.Seed
	attempt, _ := headerInt(d.Headers, HeaderAttempt)
	w.pcg.Seed(drawSeed(seed, o.OrderID, s.name, key, attempt, drawService))
	if dur := cfg.ServiceTime.Sample(w.rng); dur > 0 {
		time.Sleep(dur)
	}
	if cfg.ErrorRate > 0 && drawUniform(seed, o.OrderID, s.name, key, attempt, drawError) < cfg.ErrorRate {
		return outcome{}, errTransient
	}
	out, err := s.e.step(w, s.name, key, o, cfg)
	if err != nil {
		return outcome{}, err
	}
	for _, ev := range out.events {
		ev.ServiceUS, ev.Redone = arr.serviceUS(), arr.redone
		s.e.emit(ev)
	}
	if arr.redone && out.msg.Headers != nil {
		out.msg.Headers[HeaderRedone] = true // its own map (Engine.message)
	}
	s.stats.ok.Add(1)
	return out, nil
}

var errTransient = errors.New("simulated transient error")

// startedDetail says what a worker took: "order.created after 1.2ms in
// the queue", ", attempt 2" on a retry.
func startedDetail(key string, wait time.Duration, h map[string]any) string {
	b := make([]byte, 0, 64)
	b = append(b, key...)
	if wait >= 0 {
		b = append(b, " after "...)
		b = append(b, wait.Round(time.Microsecond).String()...)
		b = append(b, " in the queue"...)
	}
	if n, ok := headerInt(h, HeaderAttempt); ok && n > 1 {
		b = append(b, ", attempt "...)
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

// failure turns an error into a retry or a dead letter.
func (w *worker) failure(d broker.Delivery, key string, err error, arr arrival) outcome {
	s := w.s
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
	if isPerm || int(attempt) >= s.e.cfg.MaxAttempts {
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
			s.e.emit(Event{OrderID: orderID, Type: EventDeadLettered, Stage: s.name, Worker: w.name, Detail: reason,
				ServiceUS: arr.serviceUS(), Redone: arr.redone})
		}
		s.e.reportError(s.name, orderID, "dead-lettered "+key+": "+reason)
		m := d.Message
		// A dead letter is persistent whatever the configured delivery
		// mode: it is the record of an order that did not finish.
		m.Exchange, m.RoutingKey, m.Headers, m.Persistent = s.e.names.Of(ExchangeDLX), key, h, true
		m.Mandatory = true // a dead letter no queue takes must not vanish
		return outcome{msg: m}
	}
	delays := s.e.cfg.RetryDelays
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
		s.e.emit(Event{OrderID: orderID, Type: EventRetried, Stage: s.name, Worker: w.name,
			Detail: fmt.Sprintf("attempt %d failed (%v); retry in %v", attempt, err, delay), ServiceUS: arr.serviceUS(), Redone: arr.redone})
	}
	q := s.e.names.Retry(s.name, delay)
	m := d.Message
	m.Exchange, m.RoutingKey, m.Headers, m.Persistent = s.e.names.Of(ExchangeRetry), q, h, !s.e.cfg.Transient
	m.Mandatory = true
	return outcome{msg: m}
}

func headerInt(h map[string]any, k string) (int64, bool) {
	switch v := h[k].(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	case uint64:
		return int64(v), true
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func cloneHeaders(h map[string]any) map[string]any {
	out := make(map[string]any, len(h)+3)
	for k, v := range h {
		out[k] = v
	}
	return out
}
