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
type confirm struct{ acked bool }

var _ broker.Confirm = confirm{}

// Done returns a closed channel.
func (c confirm) Done() <-chan struct{} { return closedDone }

// Acked reports whether the broker took responsibility for the message.
func (c confirm) Acked() bool { return c.acked }
