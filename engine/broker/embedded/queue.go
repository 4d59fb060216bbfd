package embedded

import (
	"slices"
	"time"

	"oms-sim/engine/broker"
)

// queue is one FIFO queue with its consumers and, when it has a TTL, a timer
// that fires when the head message expires. Everything is guarded by b.mu.
type queue struct {
	b       *Broker
	name    string
	cfg     broker.Queue // normalized, compared on re-declaration
	msgs    deque[*qmsg]
	deleted bool

	consumers []*consumer // active only; stopped consumers are removed
	rr        int         // index of the consumer to try first

	timer   *time.Timer
	timerAt time.Time // deadline timer is set for; zero when not armed
}

func newQueue(b *Broker, cfg broker.Queue) *queue {
	return &queue{b: b, name: cfg.Name, cfg: cfg}
}

// publishLocked routes msg from its exchange and enqueues it on every queue
// it reaches, and returns how many it reached. An unroutable message is
// dropped; the caller returns it when it is mandatory.
func (b *Broker) publishLocked(msg broker.Message, now time.Time) (int, error) {
	qs, err := b.routeLocked(msg.Exchange, msg.RoutingKey)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range qs {
		if !q.deleted {
			n++
		}
		b.enqueueLocked(q, &qmsg{msg: msg, enqueued: now})
	}
	return n, nil
}

func (b *Broker) enqueueLocked(q *queue, m *qmsg) {
	if q.deleted {
		return
	}
	q.msgs.pushBack(m)
	b.dispatchLocked(q)
	q.arm()
}

// requeueLocked puts ms (oldest first) back at the head of q in their order.
func (b *Broker) requeueLocked(q *queue, ms []*qmsg) {
	if q.deleted || len(ms) == 0 {
		return
	}
	for _, m := range slices.Backward(ms) {
		q.msgs.pushFront(m)
	}
	b.dispatchLocked(q)
	q.arm()
}

// dispatchLocked hands ready messages to consumers with prefetch credit,
// round-robin, until either runs out. It only appends to consumer outboxes,
// so it never blocks.
func (b *Broker) dispatchLocked(q *queue) {
	if q.deleted || len(q.consumers) == 0 {
		return
	}
	for {
		b.expireLocked(q)
		if q.msgs.len() == 0 {
			return
		}
		c := q.nextConsumer()
		if c == nil {
			return
		}
		m, _ := q.msgs.popFront()
		c.assignLocked(m)
	}
}

// nextConsumer returns the next consumer in round-robin order that has
// prefetch credit, or nil if none has.
func (q *queue) nextConsumer() *consumer {
	n := len(q.consumers)
	for i := range n {
		idx := (q.rr + i) % n
		if c := q.consumers[idx]; c.hasCredit() {
			q.rr = (idx + 1) % n
			return c
		}
	}
	return nil
}

func (q *queue) removeConsumer(c *consumer) {
	i := slices.Index(q.consumers, c)
	if i < 0 {
		return
	}
	q.consumers = slices.Delete(q.consumers, i, i+1)
	if q.rr > i {
		q.rr--
	}
	if q.rr >= len(q.consumers) {
		q.rr = 0
	}
}

// expireLocked dead-letters the messages at the head of q whose TTL has
// passed. With a queue-wide TTL the head is the oldest message, so stopping
// at the first unexpired one is enough.
func (b *Broker) expireLocked(q *queue) {
	if q.cfg.TTL <= 0 || q.deleted {
		return
	}
	now := time.Now()
	for {
		m, ok := q.msgs.front()
		if !ok || now.Sub(m.enqueued) < q.cfg.TTL {
			return
		}
		q.msgs.popFront()
		b.deadLetterLocked(q, m, "expired", now)
	}
}

// arm makes the TTL timer fire when the current head message expires, or
// stops it when the queue is empty. Called after anything that may change
// the head.
func (q *queue) arm() {
	if q.cfg.TTL <= 0 || q.deleted {
		return
	}
	m, ok := q.msgs.front()
	if !ok {
		q.stopTimer()
		return
	}
	deadline := m.enqueued.Add(q.cfg.TTL)
	if deadline.Equal(q.timerAt) {
		return
	}
	q.timerAt = deadline
	wait := time.Until(deadline)
	if q.timer == nil {
		q.timer = time.AfterFunc(wait, q.onTimer)
		return
	}
	q.timer.Reset(wait)
}

func (q *queue) stopTimer() {
	if q.timer != nil {
		q.timer.Stop()
	}
	q.timerAt = time.Time{}
}

// onTimer runs on the timer's own goroutine. A callback that raced with a
// Reset or Stop finds nothing due and just re-arms, so stale fires are
// harmless.
func (q *queue) onTimer() {
	b := q.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || q.deleted {
		return
	}
	q.timerAt = time.Time{}
	b.expireLocked(q)
	q.arm()
}
