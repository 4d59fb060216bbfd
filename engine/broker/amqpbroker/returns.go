package amqpbroker

import (
	"fmt"
	"sync"
	"sync/atomic"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// Returns of mandatory publishes.
//
// RabbitMQ answers a mandatory message that no queue takes with
// basic.return and then basic.ack: the ack alone would say "safe" for a
// message that was dropped. A return names no delivery tag, only the
// message (exchange, routing key, properties), so the channel keeps its
// mandatory publishes that are not confirmed yet, in publish order, and
// gives each return to the oldest one with the same identity.
//
// Ordering: amqp091's reader goroutine hands a return to every NotifyReturn
// listener in turn, then goes on to the next frame (the ack). The channel
// registers two listeners and one goroutine reads both: it takes the
// return from the first, records it, and only then takes it from the
// second — so the reader cannot dispatch the ack of that publish before
// the return is recorded on its confirmation.

// msgKey is what identifies a returned message among the pending ones.
type msgKey struct {
	exchange, routingKey, messageID, correlationID string
}

func keyOf(m broker.Message) msgKey {
	return msgKey{m.Exchange, m.RoutingKey, m.MessageID, m.CorrelationID}
}

func keyOfReturn(r amqp.Return) msgKey {
	return msgKey{r.Exchange, r.RoutingKey, r.MessageId, r.CorrelationId}
}

// plainConfirm is the confirmation of a publish that is not mandatory:
// nothing can be returned. (One pointer: no allocation in an interface.)
type plainConfirm struct{ *amqp.DeferredConfirmation }

func (plainConfirm) Returned() (string, bool) { return "", false }

// mandatoryConfirm is the confirmation of a mandatory publish: not acked
// if the broker returned it.
type mandatoryConfirm struct {
	*amqp.DeferredConfirmation
	key    msgKey
	reason atomic.Pointer[string] // set by the return, before the ack completes Done
}

// Acked reports whether the broker confirmed the message and did not
// return it.
func (c *mandatoryConfirm) Acked() bool {
	return c.DeferredConfirmation.Acked() && c.reason.Load() == nil
}

// Returned reports whether the broker returned the message, and its reply.
func (c *mandatoryConfirm) Returned() (string, bool) {
	if r := c.reason.Load(); r != nil {
		return *r, true
	}
	return "", false
}

func (c *mandatoryConfirm) done() bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// maxEarly bounds the returns kept for publishes not registered yet; a
// return is early only in the moment between a publish's write and its
// registration.
const maxEarly = 64

// returnTracker pairs returns with mandatory publishes.
type returnTracker struct {
	mu      sync.Mutex
	pending []*mandatoryConfirm // not known to be confirmed, in publish order
	// early holds returns that came before their Publish call had
	// registered the confirmation (another goroutine published on the
	// channel meanwhile, or the broker was quick).
	early []amqp.Return
	// returned counts the returns seen, for tests and diagnostics.
	returned atomic.Int64
}

// add registers a mandatory publish just sent.
func (t *returnTracker) add(c *mandatoryConfirm) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune()
	for i, r := range t.early {
		if keyOfReturn(r) == c.key {
			c.reason.Store(replyOf(r))
			t.early = append(t.early[:i], t.early[i+1:]...)
			return
		}
	}
	t.pending = append(t.pending, c)
}

// prune drops confirmed publishes from the front, and from everywhere
// once the list has grown long (confirms out of order).
func (t *returnTracker) prune() {
	i := 0
	for i < len(t.pending) && t.pending[i].done() {
		t.pending[i] = nil
		i++
	}
	t.pending = t.pending[i:]
	if len(t.pending) >= 1024 && len(t.pending) == cap(t.pending) {
		kept := t.pending[:0]
		for _, c := range t.pending {
			if !c.done() {
				kept = append(kept, c)
			}
		}
		clear(t.pending[len(kept):])
		t.pending = kept
	}
}

// match records r on the oldest pending publish it belongs to. That
// publish cannot be confirmed yet: its ack comes after the return.
func (t *returnTracker) match(r amqp.Return) {
	t.returned.Add(1)
	k := keyOfReturn(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.pending {
		if c.key == k && c.reason.Load() == nil && !c.done() {
			c.reason.Store(replyOf(r))
			return
		}
	}
	if len(t.early) == maxEarly {
		t.early = append(t.early[:0], t.early[1:]...)
	}
	t.early = append(t.early, r)
}

func replyOf(r amqp.Return) *string {
	s := fmt.Sprintf("%d %s", r.ReplyCode, r.ReplyText)
	return &s
}

// watchReturns records returns until amqp091 closes both listeners (the
// channel closed). See the ordering note above.
func (c *Channel) watchReturns(first, second <-chan amqp.Return) {
	defer c.wg.Done()
	for r := range first {
		c.returns.match(r)
		<-second // releases the reader, which then dispatches the ack
	}
	for range second {
	}
}
