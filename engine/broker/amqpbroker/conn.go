package amqpbroker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// Conn is one named connection to RabbitMQ.
type Conn struct {
	conn *amqp.Connection
	name string
	node string // host:port of the node this connection is on

	closed chan struct{} // closed by watch once amqp091 reports the close
	mu     sync.Mutex
	err    error // why the connection closed; nil after a clean Close

	closeOnce sync.Once
	closeErr  error

	// inspectMu guards inspect, the channel kept for Inspect, Purge and
	// Delete. A passive declare of a missing queue closes it (404), so it is
	// reopened on demand.
	inspectMu sync.Mutex
	inspect   *amqp.Channel

	// blocked is the broker's flow control on this connection
	// (connection.blocked: a memory or disk alarm), with its reason.
	blocked       bool
	blockedReason string
}

var _ broker.Conn = (*Conn)(nil)

func newConn(ac *amqp.Connection, name string) *Conn {
	c := &Conn{conn: ac, name: name, closed: make(chan struct{})}
	// Buffered and always drained, as amqp091's doc.go requires: the library
	// sends at most one error, then closes the channel on every kind of close.
	notify := ac.NotifyClose(make(chan *amqp.Error, 1))
	go c.watch(notify)
	// Also buffered and drained; amqp091 closes it when the connection
	// closes, which ends the goroutine.
	blocks := ac.NotifyBlocked(make(chan amqp.Blocking, 4))
	go c.watchBlocked(blocks)
	return c
}

func (c *Conn) watchBlocked(blocks <-chan amqp.Blocking) {
	for b := range blocks {
		c.mu.Lock()
		c.blocked, c.blockedReason = b.Active, b.Reason
		c.mu.Unlock()
	}
}

// Blocked reports whether the broker has blocked this connection's
// publishes (connection.blocked, sent on a memory or disk alarm) and why.
func (c *Conn) Blocked() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocked, c.blockedReason
}

func (c *Conn) watch(notify <-chan *amqp.Error) {
	for e := range notify {
		if e != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("connection %q lost: %w (%w)", c.name, broker.ErrClosed, e)
			c.mu.Unlock()
		}
	}
	close(c.closed)
}

// Node returns the host:port of the node the connection is on (of a
// list of URLs, the one that answered).
func (c *Conn) Node() string { return c.node }

// Name returns the connection name given to Dial.
func (c *Conn) Name() string { return c.name }

// Closed is closed when the connection has closed for any reason.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// Err reports why the connection closed: nil while it is open and after a
// clean Close, otherwise an error matching broker.ErrClosed that wraps the
// *amqp.Error (e.g. 320 CONNECTION_FORCED, or 501 for a lost socket).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and all its channels and waits until
// Closed is closed. It is idempotent; closing a connection the broker has
// already dropped is not an error.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		err := c.conn.CloseDeadline(time.Now().Add(closeTimeout))
		if err != nil && !errors.Is(err, amqp.ErrClosed) {
			c.closeErr = fmt.Errorf("close connection %q: %w", c.name, err)
		}
		// amqp091 has shut the connection down by now (deferred in
		// CloseDeadline), so watch is about to finish.
		<-c.closed
	})
	return c.closeErr
}

// Channel opens a channel in confirm mode.
func (c *Conn) Channel() (broker.Channel, error) {
	ch, err := c.openChannel()
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func (c *Conn) openChannel() (*Channel, error) {
	ac, err := c.conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel on %q: %w", c.name, closedErr(err))
	}
	if err := ac.Confirm(false); err != nil {
		_ = ac.Close() // the confirm.select error is the one to report
		return nil, fmt.Errorf("confirm mode on %q: %w", c.name, closedErr(err))
	}
	return newChannel(ac, c.name), nil
}

// Declare declares t's exchanges, queues and bindings on a temporary
// channel. Exchanges and queues are durable. Redeclaring with identical
// arguments is a no-op; with different ones RabbitMQ answers
// PRECONDITION_FAILED, reported as an error matching ErrMismatch that names
// the queue and says what to do. ctx is checked between declarations
// (amqp091 calls cannot be interrupted).
func (c *Conn) Declare(ctx context.Context, t broker.Topology) error {
	args, err := validate(t)
	if err != nil {
		return err
	}

	ch, err := c.conn.Channel()
	if err != nil {
		return fmt.Errorf("declare: open channel on %q: %w", c.name, closedErr(err))
	}
	// A failed declare has already closed the channel; either way there is
	// nothing left to do with a Close error here.
	defer func() { _ = ch.Close() }()

	for _, x := range t.Exchanges {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("declare exchange %q: %w", x.Name, err)
		}
		if err := ch.ExchangeDeclare(x.Name, exchangeKind(x), true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %q: %w", x.Name, explainDeclare("exchange", x.Name, err))
		}
	}
	for i, q := range t.Queues {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("declare queue %q: %w", q.Name, err)
		}
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, args[i]); err != nil {
			return fmt.Errorf("declare queue %q: %w", q.Name, explainDeclare("queue", q.Name, err))
		}
	}
	for _, b := range t.Bindings {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bind queue %q to %q with %q: %w", b.Queue, b.Exchange, b.Key, err)
		}
		if err := ch.QueueBind(b.Queue, b.Key, b.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %q to %q with %q: %w", b.Queue, b.Exchange, b.Key, closedErr(err))
		}
	}
	return nil
}

// validate checks t before any I/O, reporting every problem, and returns
// each queue's arguments. Some mistakes are expensive on the wire: an
// unknown exchange type is a connection-level exception in RabbitMQ (503)
// that would take the whole connection down, and a binding with an empty
// queue name silently means "the last queue declared on this channel".
func validate(t broker.Topology) ([]amqp.Table, error) {
	var errs []error
	for _, x := range t.Exchanges {
		if x.Name == "" {
			errs = append(errs, errors.New("declare exchange: empty name (the default exchange cannot be declared)"))
		}
		switch exchangeKind(x) {
		case broker.Topic, broker.Direct, broker.Fanout:
		default:
			errs = append(errs, fmt.Errorf("declare exchange %q: unknown kind %q", x.Name, x.Kind))
		}
	}
	args := make([]amqp.Table, len(t.Queues))
	for i, q := range t.Queues {
		if q.Name == "" {
			errs = append(errs, errors.New("declare queue: empty name"))
		}
		a, err := queueArgs(q)
		if err != nil {
			errs = append(errs, fmt.Errorf("declare queue %q: %w", q.Name, err))
		}
		args[i] = a
	}
	for _, b := range t.Bindings {
		if b.Queue == "" || b.Exchange == "" {
			errs = append(errs, fmt.Errorf("bind queue %q to %q with %q: empty queue or exchange name", b.Queue, b.Exchange, b.Key))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return args, nil
}

func exchangeKind(x broker.Exchange) string {
	if x.Kind == "" {
		return broker.Topic
	}
	return x.Kind
}

// queueArgs builds the x-arguments for q. The queue type is always sent,
// classic included, so that a classic/quorum mix-up is caught on declare.
func queueArgs(q broker.Queue) (amqp.Table, error) {
	typ := q.Type
	if typ == "" {
		typ = broker.Classic
	}
	if typ != broker.Classic && typ != broker.Quorum {
		return nil, fmt.Errorf("unknown queue type %q (want %q or %q)", q.Type, broker.Classic, broker.Quorum)
	}
	if q.TTL < 0 {
		return nil, fmt.Errorf("negative TTL %v", q.TTL)
	}
	args := amqp.Table{"x-queue-type": typ}
	if q.TTL > 0 {
		ms := q.TTL.Milliseconds()
		if ms == 0 {
			ms = 1 // RabbitMQ counts in ms; never round a set TTL down to "none"
		}
		args["x-message-ttl"] = ms
	}
	if q.DeadLetterExchange != "" {
		args["x-dead-letter-exchange"] = q.DeadLetterExchange
	}
	if q.DeadLetterRoutingKey != "" {
		args["x-dead-letter-routing-key"] = q.DeadLetterRoutingKey
	}
	if q.DeliveryLimit < 0 {
		return nil, fmt.Errorf("negative delivery limit %d", q.DeliveryLimit)
	}
	if typ == broker.Quorum {
		if q.DeliveryLimit > 0 {
			args["x-delivery-limit"] = int64(q.DeliveryLimit)
		}
		if q.DeadLetterExchange != "" {
			// A quorum queue dead-letters at most once unless told
			// otherwise: a message expiring from a retry queue while its
			// target's leader is away would vanish. at-least-once keeps it
			// until the target confirms; it needs reject-publish overflow.
			// RabbitMQ 3.10 and later honour it; older brokers ignore the
			// argument and dead-letter at most once (README, "Clusters").
			args["x-dead-letter-strategy"] = "at-least-once"
			args["x-overflow"] = "reject-publish"
		}
	}
	return args, nil
}

// Inspect reports queue's ready message count and consumer count using a
// passive declare. A missing queue gives an error matching ErrNotFound.
func (c *Conn) Inspect(queue string) (broker.QueueInfo, error) {
	var q amqp.Queue
	err := c.withInspect(func(ch *amqp.Channel) error {
		var err error
		q, err = ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		return err
	})
	if err != nil {
		return broker.QueueInfo{}, fmt.Errorf("inspect queue %q: %w", queue, err)
	}
	return broker.QueueInfo{Name: q.Name, Ready: q.Messages, Consumers: q.Consumers}, nil
}

// Purge removes queue's ready messages and returns how many there were.
// Unacknowledged deliveries are not touched.
func (c *Conn) Purge(queue string) (int, error) {
	var n int
	err := c.withInspect(func(ch *amqp.Channel) error {
		var err error
		n, err = ch.QueuePurge(queue, false)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge queue %q: %w", queue, err)
	}
	return n, nil
}

// Delete deletes queue whether or not it is empty or in use. Deleting a
// queue that does not exist succeeds.
func (c *Conn) Delete(queue string) error {
	err := c.withInspect(func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(queue, false, false, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete queue %q: %w", queue, err)
	}
	return nil
}

// deleteExchange deletes an exchange; tests use it to clean up.
func (c *Conn) deleteExchange(name string) error {
	err := c.withInspect(func(ch *amqp.Channel) error {
		return ch.ExchangeDelete(name, false, false)
	})
	if err != nil {
		return fmt.Errorf("delete exchange %q: %w", name, err)
	}
	return nil
}

// withInspect runs fn on the inspection channel, opening it first if it is
// missing or a channel error has closed it.
func (c *Conn) withInspect(fn func(*amqp.Channel) error) error {
	c.inspectMu.Lock()
	defer c.inspectMu.Unlock()
	if c.inspect == nil || c.inspect.IsClosed() {
		ch, err := c.conn.Channel()
		if err != nil {
			return fmt.Errorf("open channel on %q: %w", c.name, closedErr(err))
		}
		c.inspect = ch
	}
	if err := fn(c.inspect); err != nil {
		return notFoundErr(closedErr(err))
	}
	return nil
}
