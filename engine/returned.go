package engine

import (
	"fmt"
)

// Returned messages. Every message the engine publishes is mandatory but
// email.sent (the end of the pipeline, which no queue takes): a message
// no queue takes — a binding or queue deleted under a running pipeline —
// comes back from the broker instead of being confirmed and dropped. A
// worker's outgoing message that comes back takes the path of a broker
// nack: the retry ladder with its attempt count, then the dead letters
// with the reason. The API's order.created that comes back is answered
// 503 (reason unroutable) and counted: nothing was queued, so the order
// was not accepted.

// ErrUnroutable means the broker returned the order's message: no queue
// is bound for it, so nothing was queued and the order was not accepted.
// It wraps ErrUnavailable (it is not indeterminate).
var ErrUnroutable = fmt.Errorf("%w: the broker returned the message unroutable (no queue is bound for it; nothing was queued)", ErrUnavailable)

// returnedError is the failure of a delivery whose outgoing message the
// broker returned.
type returnedError struct {
	key, reply string
}

func (e *returnedError) Error() string {
	return fmt.Sprintf("the broker returned the outgoing %s unroutable (%s): no queue is bound for it", e.key, e.reply)
}

// refusal says why the broker did not take a delivery's outgoing
// message: it returned it, or it nacked it.
func (w *worker) refusal(p pending) error {
	if reply, ok := p.confirm.Returned(); ok {
		err := &returnedError{key: p.out, reply: reply}
		w.s.deps.report(w.s.name, p.d.CorrelationID, err.Error()+"; through the retry ladder")
		return err
	}
	return errRefused
}

// confirmError is the publisher's answer for a confirm that completed
// not acked: returned (determinate: nothing queued), nacked, or lost with
// its channel (both indeterminate).
func confirmError(returned string, wasReturned, channelClosed bool) error {
	switch {
	case wasReturned:
		return fmt.Errorf("%w (%s)", ErrUnroutable, returned)
	case channelClosed:
		return fmt.Errorf("%w (channel closed before the confirm)", ErrIndeterminate)
	}
	return ErrNacked
}
