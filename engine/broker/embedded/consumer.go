package embedded

import "oms-sim/engine/broker"

// consumer delivers one queue's messages to one client channel. The broker
// assigns messages to its outbox under the lock, never beyond prefetch
// credit; the consumer's own goroutine moves them to the unbuffered delivery
// channel without the lock, so a slow client only ever blocks that
// goroutine. What the client has received is exactly what it has seen.
type consumer struct {
	ch       *channel
	q        *queue
	tag      string
	prefetch int // 0 means unlimited

	// Guarded by b.mu.
	stopped  bool
	inflight int           // assigned and not yet settled (outbox included)
	outbox   deque[*entry] // assigned, not yet received by the client

	out  chan broker.Delivery
	wake chan struct{} // capacity 1: "the outbox may have something"
	stop chan struct{} // closed by stopLocked
	done chan struct{} // closed when run has exited and out is closed
}

func newConsumer(ch *channel, q *queue, tag string, prefetch int) *consumer {
	return &consumer{
		ch:       ch,
		q:        q,
		tag:      tag,
		prefetch: prefetch,
		out:      make(chan broker.Delivery),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

func (c *consumer) hasCredit() bool {
	return c.prefetch == 0 || c.inflight < c.prefetch
}

// assignLocked gives m to c under a new delivery tag of c's channel.
func (c *consumer) assignLocked(m *qmsg) {
	ch := c.ch
	ch.nextTag++
	e := &entry{tag: ch.nextTag, q: c.q, m: m, c: c}
	ch.unacked[e.tag] = e
	c.inflight++
	c.outbox.pushBack(e)
	select {
	case c.wake <- struct{}{}:
	default: // already signalled
	}
}

// stopLocked detaches c from its queue and channel and tells run to exit.
// Callers wait on c.done after releasing the lock.
func (c *consumer) stopLocked() {
	if c.stopped {
		return
	}
	c.stopped = true
	c.q.removeConsumer(c)
	if c.ch.consumers[c.tag] == c {
		delete(c.ch.consumers, c.tag)
	}
	close(c.stop)
}

// run is the consumer's goroutine: owned by the Broker (b.wg), it exits when
// stop is closed.
func (c *consumer) run() {
	b := c.ch.b
	defer b.wg.Done()
	for {
		b.mu.Lock()
		var (
			e *entry
			d broker.Delivery
		)
		if !c.stopped {
			if e, _ = c.outbox.popFront(); e != nil {
				d = e.delivery() // under the lock: it reads the stored message
			}
		}
		b.mu.Unlock()
		if e == nil {
			select {
			case <-c.wake:
				continue
			case <-c.stop:
				c.finish(nil)
				return
			}
		}
		select {
		case c.out <- d:
		case <-c.stop:
			c.finish(e)
			return
		}
	}
}

// finish returns what the client never received (inHand, then the outbox)
// to the head of the queue, unmarked since nobody saw it, then closes the
// delivery channel. An entry a concurrent channel shutdown already requeued
// is no longer in unacked and is skipped, so nothing is requeued twice.
func (c *consumer) finish(inHand *entry) {
	b := c.ch.b
	b.mu.Lock()
	var back []*qmsg
	if inHand != nil {
		c.release(inHand, &back)
	}
	for {
		e, ok := c.outbox.popFront()
		if !ok {
			break
		}
		c.release(e, &back)
	}
	b.requeueLocked(c.q, back)
	delete(c.ch.live, c)
	b.mu.Unlock()
	close(c.out)
	close(c.done)
}

func (c *consumer) release(e *entry, back *[]*qmsg) {
	if c.ch.unacked[e.tag] != e {
		return
	}
	delete(c.ch.unacked, e.tag)
	c.inflight--
	*back = append(*back, e.m)
}
