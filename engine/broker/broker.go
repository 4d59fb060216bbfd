// Package broker is the engine's narrow view of a message broker: the few
// AMQP 0-9-1 operations the order pipeline relies on (topic routing, durable
// queues with prefetch, publisher confirms, manual ack/nack, dead-lettering and
// queue-wide TTL). Two implementations satisfy it: package amqpbroker talks to a
// real RabbitMQ, package embedded is an in-process broker for demos, teaching
// and fast unit tests.
package broker

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned by operations on a connection or channel that has been
// closed, either by the caller or because the broker went away.
var ErrClosed = errors.New("broker: closed")

// Message is one message as published.
type Message struct {
	Exchange      string
	RoutingKey    string
	ContentType   string
	MessageID     string
	CorrelationID string
	Timestamp     time.Time
	Persistent    bool
	// Mandatory asks the broker to return the message if no queue takes
	// it (AMQP basic.publish mandatory): its confirm then completes not
	// acked and Returned says why, instead of the broker confirming a
	// message it dropped.
	Mandatory bool
	Headers   map[string]any
	Body      []byte
}

// Delivery is a message handed to a consumer. Tag identifies it on the channel
// that received it, for Ack and Nack.
type Delivery struct {
	Message
	Queue       string
	Tag         uint64
	Redelivered bool
}

// Confirm is a publisher confirmation that completes once the broker has
// taken responsibility for a message (Acked true) or refused it (Acked false).
// A confirmation whose channel closes first completes with Acked false, and
// so does a mandatory message the broker returned unroutable (RabbitMQ
// acks it after the return: it was dropped, not taken).
type Confirm interface {
	Done() <-chan struct{}
	Acked() bool
	// Returned reports, once Done, whether the broker returned the
	// (mandatory) message because no queue took it, and its reply, e.g.
	// "312 NO_ROUTE".
	Returned() (reason string, ok bool)
}

// Channel is a single-goroutine session on a connection, always in confirm
// mode. Ack and Nack may be called from a second goroutine that the owner
// controls (the confirm waiter of a pipelined worker).
type Channel interface {
	// Publish sends msg and returns its pending confirmation without waiting.
	Publish(ctx context.Context, msg Message) (Confirm, error)
	// Consume starts delivering messages from queue with at most prefetch
	// unacknowledged at once. The returned channel is closed when the
	// consumer is cancelled or the channel or connection closes.
	Consume(queue, consumerTag string, prefetch int) (<-chan Delivery, error)
	// Cancel stops new deliveries for consumerTag; deliveries already handed
	// out can still be acked or nacked.
	Cancel(consumerTag string) error
	Ack(tag uint64) error
	// AckUpTo acknowledges every delivery of this channel up to and
	// including tag that is not settled yet (basic.ack with multiple):
	// one frame for many deliveries.
	AckUpTo(tag uint64) error
	Nack(tag uint64, requeue bool) error
	// Closed is closed when the channel closes for any reason.
	Closed() <-chan struct{}
	Close() error
}

// Conn is one connection to a broker.
type Conn interface {
	// Channel opens a new channel in confirm mode.
	Channel() (Channel, error)
	// Declare creates the exchanges, queues and bindings of t. It is
	// idempotent for identical arguments.
	Declare(ctx context.Context, t Topology) error
	// Inspect reports a queue's ready message count and consumer count.
	Inspect(queue string) (QueueInfo, error)
	// Purge removes the ready messages of a queue and returns how many.
	Purge(queue string) (int, error)
	// Delete removes a queue (used by tests for per-test queues).
	Delete(queue string) error
	// Closed is closed when the connection is lost or closed; Err then
	// reports why (nil after a clean Close).
	Closed() <-chan struct{}
	Err() error
	Close() error
}

// Blocker is implemented by connections that report the broker's flow
// control: RabbitMQ sends connection.blocked to publishing connections
// while a memory or disk alarm is on, and their publishes wait.
type Blocker interface {
	Blocked() (blocked bool, reason string)
}

// Dialer opens connections. name labels the connection on the broker
// (visible in the management UI and rabbitmqctl list_connections).
type Dialer interface {
	Dial(ctx context.Context, name string) (Conn, error)
	// Describe returns a human-readable location, never containing a
	// password: "amqp://guest@localhost:5672/" or "embedded".
	Describe() string
}

// Exchange kinds.
const (
	Topic  = "topic"
	Direct = "direct"
	Fanout = "fanout"
)

// Queue types.
const (
	Classic = "classic"
	Quorum  = "quorum"
)

// Topology is a set of exchanges, queues and bindings to declare.
type Topology struct {
	Exchanges []Exchange
	Queues    []Queue
	Bindings  []Binding
}

// Exchange is a durable exchange.
type Exchange struct {
	Name string
	Kind string // Topic, Direct or Fanout
}

// Queue is a durable queue.
type Queue struct {
	Name string
	Type string // Classic (default) or Quorum
	// TTL, when non-zero, is a queue-wide message TTL (x-message-ttl).
	TTL time.Duration
	// DeadLetterExchange and DeadLetterRoutingKey, when set, receive
	// messages that expire or are rejected without requeue.
	DeadLetterExchange   string
	DeadLetterRoutingKey string
	// DeliveryLimit, for a quorum queue, is how many times one message may
	// be delivered (x-delivery-limit) before the broker dead-letters it —
	// or drops it, without a DeadLetterExchange. 0 leaves the broker's
	// default (unlimited on 3.x, 20 on 4.x). Classic queues ignore it.
	DeliveryLimit int
}

// Binding binds a queue to an exchange with a routing-key pattern.
type Binding struct {
	Exchange string
	Queue    string
	Key      string
}

// QueueInfo is what Inspect reports.
type QueueInfo struct {
	Name      string
	Ready     int
	Consumers int
}

// TopicMatch reports whether routing key key matches binding pattern pattern
// under AMQP topic rules: words are separated by '.', '*' matches exactly one
// word and '#' matches zero or more words.
func TopicMatch(pattern, key string) bool {
	return matchWords(splitWords(pattern), splitWords(key))
}

func splitWords(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func matchWords(p, k []string) bool {
	for len(p) > 0 {
		switch p[0] {
		case "#":
			// '#' may swallow zero or more words: try every split.
			for i := 0; i <= len(k); i++ {
				if matchWords(p[1:], k[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(k) == 0 {
				return false
			}
		default:
			if len(k) == 0 || k[0] != p[0] {
				return false
			}
		}
		p, k = p[1:], k[1:]
	}
	return len(k) == 0
}
