package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/telemetry"
)

// ErrUnavailable means the broker is not connected or did not confirm in
// time; the API answers 503 with Retry-After. The order was not accepted.
var ErrUnavailable = errors.New("broker unavailable")

// ErrIndeterminate means the message was handed to the broker but no
// confirm came in time (or the channel died first): the broker may have
// it, so the order may still run. It wraps ErrUnavailable.
var ErrIndeterminate = fmt.Errorf("%w: no confirm, the broker may still have the order", ErrUnavailable)

// ErrNacked means the broker nacked the message. RabbitMQ nacks when a
// queue process failed, and the message may still have reached other
// queues, so it is indeterminate too (it wraps ErrIndeterminate).
var ErrNacked = fmt.Errorf("%w (the broker nacked it)", ErrIndeterminate)

// maxOutstanding bounds unconfirmed publishes per publishing channel.
const maxOutstanding = 256

// publisher publishes the API's messages over a few confirm-mode channels,
// each with many publishes outstanding, and tells each caller when its own
// message is confirmed.
type publisher struct {
	channels int // Config.Publishers
	reqs     chan pubReq
	up       atomic.Int32 // channels currently publishing
	confirm  *telemetry.Latency
}

type pubReq struct {
	msg  broker.Message
	done chan error // buffered(1)
}

func newPublisher(channels int) *publisher {
	return &publisher{channels: channels, reqs: make(chan pubReq), confirm: telemetry.NewLatency()}
}

func (p *publisher) ready() bool { return p.up.Load() > 0 }

// publish sends msg and waits for its confirm, at most until ctx ends.
func (p *publisher) publish(ctx context.Context, msg broker.Message) error {
	if !p.ready() {
		return ErrUnavailable
	}
	req := pubReq{msg: msg, done: make(chan error, 1)}
	start := time.Now()
	select {
	case p.reqs <- req:
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
	select {
	case err := <-req.done:
		if err == nil {
			p.confirm.Record(time.Since(start))
		}
		return err
	case <-ctx.Done():
		// The message may still be confirmed later: the caller is told
		// the outcome is unknown (a retry with the same Idempotency-Key
		// republishes the same order, which the consumers deduplicate).
		return fmt.Errorf("%w (%v)", ErrIndeterminate, ctx.Err())
	}
}

// session runs the publishing channels on conn until it is lost or ctx
// ends. Publishes in flight are answered before it returns.
func (p *publisher) session(ctx context.Context, conn broker.Conn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, p.channels)
	for i := 0; i < p.channels; i++ {
		ch, err := conn.Channel()
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("open publishing channel: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.loop(ctx, ch)
		}()
	}
	var err error
	select {
	case <-conn.Closed():
		err = conn.Err()
	case err = <-errs:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	return err
}

type outstanding struct {
	confirm broker.Confirm
	done    chan error
}

// loop owns one channel: it takes requests, publishes, and hands the
// confirms to a waiter that answers the callers in order.
func (p *publisher) loop(ctx context.Context, ch broker.Channel) error {
	defer ch.Close()
	p.up.Add(1)
	defer p.up.Add(-1)
	waiting := make(chan outstanding, maxOutstanding)
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		for o := range waiting {
			<-o.confirm.Done()
			// Not acked: nacked, or the channel died first (amqp091 then
			// completes its pending confirms unacked, sometimes before
			// Closed fires). Either way the broker may have the message.
			// A returned message (no queue bound) was dropped: determinate.
			if o.confirm.Acked() {
				o.done <- nil
			} else {
				reply, returned := o.confirm.Returned()
				closed := false
				select {
				case <-ch.Closed():
					closed = true
				default:
				}
				o.done <- confirmError(reply, returned, closed)
			}
		}
	}()
	defer func() {
		close(waiting)
		<-waiterDone
	}()
	for {
		select {
		case req := <-p.reqs:
			c, err := ch.Publish(ctx, req.msg)
			if err != nil {
				req.done <- fmt.Errorf("%w: publish: %v", ErrUnavailable, err)
				return fmt.Errorf("publish: %w", err)
			}
			waiting <- outstanding{confirm: c, done: req.done}
		case <-ch.Closed():
			return errors.New("publishing channel closed")
		case <-ctx.Done():
			return nil
		}
	}
}
