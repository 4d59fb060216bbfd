package embedded

import "errors"

// Errors reported by the embedded broker. They mirror the AMQP reply codes a
// real RabbitMQ would send, so callers can tell a programming mistake from a
// lost connection. Operations on a closed connection or channel return
// broker.ErrClosed.
var (
	// ErrNotFound corresponds to NOT_FOUND (404): a missing exchange or queue.
	// Publishing to a missing exchange or consuming from a missing queue also
	// closes the channel, as RabbitMQ does.
	ErrNotFound = errors.New("embedded: not found")
	// ErrPreconditionFailed corresponds to PRECONDITION_FAILED (406): a
	// re-declaration with different arguments, an unknown delivery tag
	// (which also closes the channel) or an otherwise invalid request.
	ErrPreconditionFailed = errors.New("embedded: precondition failed")
	// ErrConnectionLost is what Conn.Err reports after KillConnections.
	ErrConnectionLost = errors.New("embedded: connection lost")
	// ErrShutdown is what Conn.Err reports after the Broker was closed.
	ErrShutdown = errors.New("embedded: broker shut down")
)
