// Package embedded is an in-process message broker that implements the
// broker.Dialer, broker.Conn and broker.Channel interfaces with the AMQP 0-9-1
// semantics the order engine relies on: topic, direct and fanout exchanges
// (plus the default exchange), FIFO queues, per-consumer prefetch, round-robin
// delivery, ack/nack/requeue, dead-lettering and queue-wide TTL, publisher
// confirms, mandatory publishes (an unroutable one is returned: its confirm
// is not acked), and abrupt connection loss for recovery tests.
//
// It owns all broker state (exchanges, queues, bindings, connections,
// channels and consumers) and every goroutine it starts: one per consumer plus
// short-lived TTL timer callbacks, all stopped by (*Broker).Close.
//
// It exists for demos, teaching and fast unit tests. It is NOT a substitute
// for RabbitMQ in integration tests: it keeps nothing on disk, has no
// clustering, quorum-queue or stream behaviour, no return of the message
// body (only the verdict), no dead-letter cycle detection, and publishing is
// synchronous, so confirms never arrive late. Every integration test runs against a real RabbitMQ.
package embedded
