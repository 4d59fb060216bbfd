package embedded

import "oms-sim/engine/broker"

// closedDone is shared by every confirmation: publishing is synchronous, so a
// confirmation is complete before Publish returns. A closed channel never
// changes, so sharing it is safe.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// confirm is a publisher confirmation that is already complete.
type confirm struct{ acked, returned bool }

var _ broker.Confirm = confirm{}

// Done returns a closed channel.
func (c confirm) Done() <-chan struct{} { return closedDone }

// Acked reports whether the broker took responsibility for the message.
func (c confirm) Acked() bool { return c.acked }

// Returned reports whether the message was mandatory and reached no queue.
func (c confirm) Returned() (string, bool) {
	if c.returned {
		return noRoute, true
	}
	return "", false
}

// noRoute is RabbitMQ's reply to an unroutable mandatory message.
const noRoute = "312 NO_ROUTE"
