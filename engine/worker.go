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
	in  inbound // the delivery being handled, reused

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
	tag := w.s.deps.process + "/" + w.name
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
	out := w.s.failure(p.d, p.key, w.name, w.refusal(p), p.arr)
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
	w.s.deps.report(w.s.name, p.d.CorrelationID, "the broker refused the retry of "+p.key+" too; requeued")
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
		w.s.deps.report(w.s.name, "", fmt.Sprintf("acked a delivery whose events the log had not stored after %v", storeWait))
	}
}

// handle runs one delivery through the stage's chain and queues its ack
// behind the confirm of the one message it publishes: the next step, a
// retry or a dead letter.
func (w *worker) handle(ch broker.Channel, d broker.Delivery, acks chan<- pending) {
	s, st := w.s, &w.s.stats
	in := &w.in
	*in = inbound{d: d, worker: w.name, rng: w.rng, pcg: w.pcg, cfg: s.knobs()}
	in.arr = arrival{at: time.Now(), wait: -1, redone: d.Redelivered}
	if r, ok := d.Headers[HeaderRedone].(bool); ok && r {
		in.arr.redone = true
	}
	st.delivered.Add(1)
	st.inflight.Add(1)
	if ns, ok := headerInt(d.Headers, HeaderPublishedAt); ok && ns > 0 {
		in.arr.wait = in.arr.at.Sub(time.Unix(0, ns))
		st.queueWait.Record(in.arr.wait)
	}
	in.key = d.RoutingKey
	if k, ok := d.Headers[HeaderRoutingKey].(string); ok && k != "" {
		in.key = k
	}
	in.attempt, _ = headerInt(d.Headers, HeaderAttempt)

	out, err := s.chain(context.Background(), in)
	if err != nil {
		// errBusy, the chain's only error: requeue. By the time it comes
		// back the other worker is done and the outcome is remembered.
		st.inflight.Add(-1)
		if err := ch.Nack(d.Tag, true); err != nil {
			st.ackErrors.Add(1)
		}
		return
	}
	st.service.Record(time.Since(in.arr.at))
	st.handled.Add(1)

	c, perr := ch.Publish(context.Background(), out.msg)
	if perr != nil {
		// Nothing was published: put the delivery back for another try.
		st.inflight.Add(-1)
		if err := ch.Nack(d.Tag, true); err != nil {
			st.ackErrors.Add(1)
		}
		s.deps.report(s.name, "", fmt.Sprintf("publish %s: %v", out.msg.RoutingKey, perr))
		return
	}
	acks <- pending{tag: d.Tag, confirm: c, stored: s.deps.stored(), d: d, key: in.key, out: out.msg.RoutingKey, arr: in.arr}
}

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
