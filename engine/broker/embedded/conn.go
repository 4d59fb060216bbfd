package embedded

import (
	"context"
	"fmt"

	"oms-sim/engine/broker"
)

// conn is one connection: a set of channels that close together.
type conn struct {
	b *Broker

	// Guarded by b.mu.
	closing  bool
	err      error
	channels map[*channel]struct{}

	closed chan struct{} // closed once shutdown has finished
}

// Channel opens a new channel in confirm mode.
func (c *conn) Channel() (broker.Channel, error) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.closing {
		return nil, broker.ErrClosed
	}
	ch := &channel{
		b:         c.b,
		conn:      c,
		unacked:   make(map[uint64]*entry),
		consumers: make(map[string]*consumer),
		live:      make(map[*consumer]struct{}),
		closed:    make(chan struct{}),
	}
	c.channels[ch] = struct{}{}
	return ch, nil
}

// Declare creates the exchanges, queues and bindings of t. Every problem is
// reported together and nothing is applied unless all of t is valid.
func (c *conn) Declare(ctx context.Context, t broker.Topology) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.closing {
		return broker.ErrClosed
	}
	return c.b.declareLocked(t)
}

// Inspect reports a queue's ready message count and consumer count.
// Messages whose TTL has passed are dead-lettered first, so they never count.
func (c *conn) Inspect(name string) (broker.QueueInfo, error) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := c.queueLocked(name)
	if err != nil {
		return broker.QueueInfo{}, fmt.Errorf("inspect: %w", err)
	}
	b.expireLocked(q)
	return broker.QueueInfo{Name: name, Ready: q.msgs.len(), Consumers: len(q.consumers)}, nil
}

// Purge removes the ready messages of a queue and returns how many. Messages
// handed to consumers and not yet acknowledged are not touched.
func (c *conn) Purge(name string) (int, error) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := c.queueLocked(name)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	b.expireLocked(q)
	n := q.msgs.clear()
	q.arm()
	return n, nil
}

// Delete removes a queue, its messages and its bindings. Its consumers are
// cancelled (their delivery channels close); deliveries already handed out
// can still be acked, but are dropped rather than requeued.
func (c *conn) Delete(name string) error {
	b := c.b
	b.mu.Lock()
	q, err := c.queueLocked(name)
	if err != nil {
		b.mu.Unlock()
		return fmt.Errorf("delete: %w", err)
	}
	stopped := b.deleteQueueLocked(q)
	b.mu.Unlock()
	for _, cons := range stopped {
		<-cons.done
	}
	return nil
}

func (c *conn) queueLocked(name string) (*queue, error) {
	if c.closing {
		return nil, broker.ErrClosed
	}
	q, ok := c.b.queues[name]
	if !ok {
		return nil, fmt.Errorf("queue %q: %w", name, ErrNotFound)
	}
	return q, nil
}

// Closed is closed once the connection has closed for any reason and its
// unacknowledged messages have been requeued.
func (c *conn) Closed() <-chan struct{} { return c.closed }

// Err reports why the connection closed: nil while open or after Close,
// ErrConnectionLost after KillConnections, ErrShutdown after Broker.Close.
func (c *conn) Err() error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.err
}

// Close closes the connection and all its channels. It is idempotent.
func (c *conn) Close() error {
	c.shutdown(nil)
	return nil
}

// shutdown closes every channel of c, recording err as the reason. A second
// caller waits for the first to finish, so on return c is fully closed.
func (c *conn) shutdown(err error) {
	b := c.b
	b.mu.Lock()
	if c.closing {
		b.mu.Unlock()
		<-c.closed
		return
	}
	c.closing = true
	c.err = err
	chs := make([]*channel, 0, len(c.channels))
	for ch := range c.channels {
		chs = append(chs, ch)
	}
	b.mu.Unlock()

	for _, ch := range chs {
		ch.shutdown()
	}

	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	close(c.closed)
}
