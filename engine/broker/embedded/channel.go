package embedded

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"oms-sim/engine/broker"
)

// channel is one session on a connection, always in confirm mode. Like a
// RabbitMQ channel it is closed by a channel error: publishing to a missing
// exchange, consuming from a missing queue, reusing a consumer tag, or
// acking an unknown delivery tag.
type channel struct {
	b    *Broker
	conn *conn

	// Guarded by b.mu.
	closing   bool
	nextTag   uint64
	unacked   map[uint64]*entry    // every delivery assigned and not yet settled
	consumers map[string]*consumer // active consumers by tag
	live      map[*consumer]struct{}

	closed chan struct{} // closed once shutdown has finished
}

// entry is a message assigned to a consumer on this channel under a delivery
// tag, from the moment it enters the consumer's outbox until it is settled.
type entry struct {
	tag uint64
	q   *queue
	m   *qmsg
	c   *consumer
}

// delivery builds what the client sees. It copies headers and body, so a
// client that mutates them cannot affect the stored message or other queues.
func (e *entry) delivery() broker.Delivery {
	return broker.Delivery{
		Message:     cloneMessage(e.m.msg),
		Queue:       e.q.name,
		Tag:         e.tag,
		Redelivered: e.m.redelivered,
	}
}

func (ch *channel) closingLocked() bool { return ch.closing || ch.conn.closing }

// Publish routes msg and returns a confirmation that is already complete:
// the message is enqueued (or, if unroutable, dropped) before Publish
// returns. An unroutable mandatory message is returned, as RabbitMQ does:
// its confirmation is not acked and Returned says "312 NO_ROUTE". Publishing to a missing exchange returns an error wrapping
// ErrNotFound and closes the channel.
func (ch *channel) Publish(ctx context.Context, msg broker.Message) (broker.Confirm, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msg = cloneMessage(msg) // the caller may reuse its buffers after we return
	b := ch.b
	b.mu.Lock()
	if ch.closingLocked() {
		b.mu.Unlock()
		return nil, broker.ErrClosed
	}
	n, err := b.publishLocked(msg, time.Now())
	b.mu.Unlock()
	if err != nil {
		ch.shutdown()
		return nil, fmt.Errorf("publish: %w", err)
	}
	if n == 0 && msg.Mandatory {
		return confirm{returned: true}, nil
	}
	return confirm{acked: true}, nil
}

// Consume starts a consumer on queue. An empty consumerTag gets a generated
// one. prefetch limits unacknowledged deliveries for this consumer; 0 means
// unlimited.
func (ch *channel) Consume(queue, consumerTag string, prefetch int) (<-chan broker.Delivery, error) {
	if prefetch < 0 {
		return nil, fmt.Errorf("consume %q: negative prefetch %d: %w", queue, prefetch, ErrPreconditionFailed)
	}
	b := ch.b
	b.mu.Lock()
	if ch.closingLocked() {
		b.mu.Unlock()
		return nil, broker.ErrClosed
	}
	q, ok := b.queues[queue]
	if !ok {
		b.mu.Unlock()
		ch.shutdown()
		return nil, fmt.Errorf("consume: queue %q: %w", queue, ErrNotFound)
	}
	if consumerTag == "" {
		b.nextTag++
		consumerTag = "ctag-" + strconv.FormatUint(b.nextTag, 10)
	}
	if _, dup := ch.consumers[consumerTag]; dup {
		b.mu.Unlock()
		ch.shutdown()
		return nil, fmt.Errorf("consume %q: consumer tag %q already in use: %w", queue, consumerTag, ErrPreconditionFailed)
	}
	c := newConsumer(ch, q, consumerTag, prefetch)
	ch.consumers[consumerTag] = c
	ch.live[c] = struct{}{}
	q.consumers = append(q.consumers, c)
	b.wg.Add(1)
	go c.run()
	b.dispatchLocked(q)
	b.mu.Unlock()
	return c.out, nil
}

// Cancel stops consumerTag: no new deliveries, and its delivery channel is
// closed before Cancel returns. Messages the consumer had been assigned but
// not yet received go back to the queue; deliveries already received stay
// unacknowledged on this channel and can still be acked or nacked. An
// unknown tag is not an error, as in AMQP.
func (ch *channel) Cancel(consumerTag string) error {
	b := ch.b
	b.mu.Lock()
	if ch.closingLocked() {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	c, ok := ch.consumers[consumerTag]
	if ok {
		c.stopLocked()
	}
	b.mu.Unlock()
	if ok {
		<-c.done
	}
	return nil
}

// Ack acknowledges delivery tag: the message is gone for good.
func (ch *channel) Ack(tag uint64) error {
	return ch.settleUpTo("ack", tag, false, func(e *entry) {})
}

// AckUpTo acknowledges every unsettled delivery up to and including tag,
// as basic.ack with multiple does; tag itself must be unsettled.
func (ch *channel) AckUpTo(tag uint64) error {
	return ch.settleUpTo("ack", tag, true, func(e *entry) {})
}

// Nack rejects delivery tag. With requeue the message goes back to the head
// of its queue with Redelivered set; otherwise it is dead-lettered if the
// queue has a dead-letter exchange, else dropped.
func (ch *channel) Nack(tag uint64, requeue bool) error {
	return ch.settleUpTo("nack", tag, false, func(e *entry) {
		if requeue {
			e.m.redelivered = true
			ch.b.requeueLocked(e.q, []*qmsg{e.m})
			return
		}
		if !e.q.deleted {
			ch.b.deadLetterLocked(e.q, e.m, reasonRejected, time.Now())
		}
	})
}

// settleUpTo removes tag — and with multiple every unsettled tag below
// it — from the unacknowledged set, frees the consumers' prefetch credit
// and applies then to each. An unknown tag is a channel error.
func (ch *channel) settleUpTo(op string, tag uint64, multiple bool, then func(*entry)) error {
	b := ch.b
	b.mu.Lock()
	if ch.closingLocked() {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	e, ok := ch.unacked[tag]
	if !ok {
		b.mu.Unlock()
		ch.shutdown()
		return fmt.Errorf("%s: unknown delivery tag %d: %w", op, tag, ErrPreconditionFailed)
	}
	settle := func(x *entry) {
		delete(ch.unacked, x.tag)
		x.c.inflight--
		then(x)
	}
	settle(e)
	queues := map[*queue]bool{e.q: true}
	if multiple {
		for t, x := range ch.unacked {
			if t < tag {
				settle(x)
				queues[x.q] = true
			}
		}
	}
	for q := range queues {
		b.dispatchLocked(q)
	}
	b.mu.Unlock()
	return nil
}

// Closed is closed once the channel has closed for any reason, its
// consumers' delivery channels are closed and its unacknowledged messages
// are back in their queues.
func (ch *channel) Closed() <-chan struct{} { return ch.closed }

// Close closes the channel, requeuing its unacknowledged messages with
// Redelivered set. It is idempotent.
func (ch *channel) Close() error {
	ch.shutdown()
	return nil
}

// shutdown stops every consumer, waits for their goroutines, then requeues
// what is still unacknowledged. A second caller waits for the first.
func (ch *channel) shutdown() {
	b := ch.b
	b.mu.Lock()
	if ch.closing {
		b.mu.Unlock()
		<-ch.closed
		return
	}
	ch.closing = true
	live := make([]*consumer, 0, len(ch.live))
	for c := range ch.live { // includes consumers mid-Cancel
		c.stopLocked()
		live = append(live, c)
	}
	b.mu.Unlock()

	for _, c := range live {
		<-c.done
	}

	b.mu.Lock()
	ch.requeueUnackedLocked()
	delete(ch.conn.channels, ch)
	b.mu.Unlock()
	close(ch.closed)
}

// requeueUnackedLocked returns every unacknowledged message to the head of
// its queue with Redelivered set, keeping delivery order within each queue.
func (ch *channel) requeueUnackedLocked() {
	byQueue := make(map[*queue][]*entry)
	for _, e := range ch.unacked {
		byQueue[e.q] = append(byQueue[e.q], e)
	}
	clear(ch.unacked)
	for q, es := range byQueue {
		slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.tag, b.tag) })
		ms := make([]*qmsg, len(es))
		for i, e := range es {
			e.m.redelivered = true
			ms[i] = e.m
		}
		ch.b.requeueLocked(q, ms)
	}
}
