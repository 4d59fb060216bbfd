package amqpbroker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// Channel is an AMQP channel in confirm mode.
//
// Confirms: Publish wraps amqp091's *DeferredConfirmation, which already
// has Done and Acked. When the channel closes for any reason (Close, a
// channel exception such as publishing to a missing exchange, or the
// connection going away) amqp091 closes its confirms bookkeeping
// (confirms.Close -> deferredConfirmations.Close), which completes every
// outstanding confirmation with Acked false. A caller waiting on Done
// therefore never hangs, and must treat Acked false as "not known to be
// safe": republish on a new channel.
type Channel struct {
	ch   *amqp.Channel
	conn string // connection name, for error messages

	closed chan struct{} // closed by watch once amqp091 reports the close
	errMu  sync.Mutex
	err    error

	// mu guards done and serialises Consume against Close, so that no
	// forwarder is added to wg once Close waits on it.
	mu   sync.Mutex
	done bool
	wg   sync.WaitGroup // watch and the delivery forwarders

	closeOnce sync.Once
	closeErr  error

	returns returnTracker // mandatory publishes and their returns (returns.go)
}

var _ broker.Channel = (*Channel)(nil)

func newChannel(ac *amqp.Channel, conn string) *Channel {
	c := &Channel{ch: ac, conn: conn, closed: make(chan struct{})}
	notify := ac.NotifyClose(make(chan *amqp.Error, 1)) // buffered and drained, see Conn
	c.wg.Add(1)
	go c.watch(notify)
	// Unbuffered, both read by one goroutine: see returns.go.
	first := ac.NotifyReturn(make(chan amqp.Return))
	second := ac.NotifyReturn(make(chan amqp.Return))
	c.wg.Add(1)
	go c.watchReturns(first, second)
	return c
}

func (c *Channel) watch(notify <-chan *amqp.Error) {
	defer c.wg.Done()
	for e := range notify {
		if e != nil {
			c.errMu.Lock()
			c.err = fmt.Errorf("channel on %q closed: %w (%w)", c.conn, broker.ErrClosed, e)
			c.errMu.Unlock()
		}
	}
	close(c.closed)
}

// Closed is closed when the channel has closed for any reason.
func (c *Channel) Closed() <-chan struct{} { return c.closed }

// Err reports why the channel closed: nil while open and after a clean
// Close, otherwise an error matching broker.ErrClosed that wraps the
// *amqp.Error (e.g. 404 for publishing to a missing exchange).
func (c *Channel) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// Close closes the channel and waits for its goroutines to finish. It is
// idempotent; closing a channel that is already closed is not an error.
// Outstanding confirmations complete with Acked false.
func (c *Channel) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.done = true
		c.mu.Unlock()
		if err := c.ch.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
			c.closeErr = fmt.Errorf("close channel on %q: %w", c.conn, err)
		}
		c.wg.Wait()
	})
	return c.closeErr
}

// Publish sends msg and returns its pending confirmation. A mandatory
// message that no queue takes is returned by the broker: its confirmation
// then completes not acked, and Returned says why (returns.go); without
// Mandatory the broker confirms and drops it. Publish does not
// wait for the confirmation; bounding how many are outstanding is the
// caller's job. ctx is checked before sending: amqp091 cannot interrupt a
// write blocked by TCP back-pressure or a broker resource alarm.
func (c *Channel) Publish(ctx context.Context, msg broker.Message) (broker.Confirm, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("publish to %q with key %q: %w", msg.Exchange, msg.RoutingKey, err)
	}
	p, err := publishing(msg)
	if err != nil {
		return nil, fmt.Errorf("publish to %q with key %q: %w", msg.Exchange, msg.RoutingKey, err)
	}
	dc, err := c.ch.PublishWithDeferredConfirm(msg.Exchange, msg.RoutingKey, msg.Mandatory, false, p)
	if err != nil {
		return nil, fmt.Errorf("publish to %q with key %q: %w", msg.Exchange, msg.RoutingKey, closedErr(err))
	}
	if dc == nil {
		// Only possible if confirm mode were off, which Conn.Channel prevents.
		return nil, fmt.Errorf("publish to %q with key %q: channel not in confirm mode", msg.Exchange, msg.RoutingKey)
	}
	if !msg.Mandatory {
		return plainConfirm{dc}, nil
	}
	mc := &mandatoryConfirm{DeferredConfirmation: dc, key: keyOf(msg)}
	c.returns.add(mc)
	return mc, nil
}

// Consume sets the channel's prefetch (basic.qos with global=false, which
// RabbitMQ applies per consumer to consumers started afterwards) and starts a
// manual-ack consumer on queue. The returned channel is closed when the
// consumer is cancelled or the channel or connection closes; deliveries
// not yet received then are dropped here and requeued by the broker.
func (c *Channel) Consume(queue, consumerTag string, prefetch int) (<-chan broker.Delivery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return nil, fmt.Errorf("consume from %q: %w", queue, broker.ErrClosed)
	}
	if err := c.ch.Qos(prefetch, 0, false); err != nil {
		return nil, fmt.Errorf("set prefetch %d for %q: %w", prefetch, queue, closedErr(err))
	}
	src, err := c.ch.Consume(queue, consumerTag, false, false, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consume from %q: %w", queue, notFoundErr(closedErr(err)))
	}
	out := make(chan broker.Delivery)
	c.wg.Add(1)
	go c.forward(queue, src, out)
	return out, nil
}

// forward converts deliveries until amqp091 closes src (cancel, channel or
// connection close). It also gives up a blocked send once the channel has
// closed, so a consumer that stopped reading cannot leak it.
func (c *Channel) forward(queue string, src <-chan amqp.Delivery, out chan<- broker.Delivery) {
	defer c.wg.Done()
	defer close(out)
	for d := range src {
		select {
		case out <- delivery(queue, d):
		case <-c.closed:
			return
		}
	}
}

// Cancel stops new deliveries for consumerTag. Deliveries already received
// can still be acked; the Consume channel closes once the ones in flight
// have been handed out.
func (c *Channel) Cancel(consumerTag string) error {
	if err := c.ch.Cancel(consumerTag, false); err != nil {
		return fmt.Errorf("cancel consumer %q: %w", consumerTag, closedErr(err))
	}
	return nil
}

// Ack acknowledges one delivery.
func (c *Channel) Ack(tag uint64) error {
	if err := c.ch.Ack(tag, false); err != nil {
		return fmt.Errorf("ack %d: %w", tag, closedErr(err))
	}
	return nil
}

// AckUpTo acknowledges every unsettled delivery up to and including tag.
func (c *Channel) AckUpTo(tag uint64) error {
	if err := c.ch.Ack(tag, true); err != nil {
		return fmt.Errorf("ack up to %d: %w", tag, closedErr(err))
	}
	return nil
}

// Nack rejects one delivery; with requeue false it is dead-lettered if the
// queue has a dead-letter exchange, otherwise dropped by the broker.
func (c *Channel) Nack(tag uint64, requeue bool) error {
	if err := c.ch.Nack(tag, false, requeue); err != nil {
		return fmt.Errorf("nack %d: %w", tag, closedErr(err))
	}
	return nil
}
