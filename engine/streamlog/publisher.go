package streamlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

// Publishing: the client's producers do not reconnect (its ReliableProducer
// does, but blocks Send meanwhile and sleeps 3-11 s per attempt), so each
// connection is a session: an environment, one named producer and a
// goroutine draining its confirmations. When the session breaks, the next
// one re-sends everything unconfirmed with the same publishing ids; the
// broker deduplicates by producer name, and the last id it stored (asked
// on reconnect) settles most of them without sending.
//
// Each stream message carries up to eventsPerMessage consecutive events,
// one JSON object per line, with the publishing id of its last event: the
// broker then handles one message, not one hundred, per hundred events —
// on a machine where the broker is the bottleneck, a message per event
// cost the pipeline half its throughput. Readers split the lines.
//
// BatchSend with our own batches, not sub-entry batching: the broker deduplicates and reports the last stored id per
// publishing id, and with sub-entries the client numbers the entries
// itself (one id per sub-entry), which would lose both. Sub-entries are
// faster in raw messages (300,000 messages of 200 bytes end to end on
// this 2-vCPU machine: ~500,000/s with 100 per sub-entry, ~330,000/s
// with named 500-message batches, ~360,000/s with the client's Send),
// but a Log is bound well below either by JSON (see
// BenchmarkAppendDeliver and BenchmarkReadBack).

// producerSession is one connection's producer.
type producerSession struct {
	env  *stream.Environment
	prod *stream.Producer
	// ranges maps a message's publishing id (its last event's) to its
	// first event's, for the confirmation.
	ranges sync.Map
	closed stream.ChannelClose // the client reports a lost connection here
	failed chan struct{}       // closed when the broker refuses or times out a message
	stored int                 // events found stored by the broker when connecting
}

func (l *Log) connectProducer() (*producerSession, error) {
	env, err := dialEnv(l.cfg, nil)
	if err != nil {
		return nil, err
	}
	// Re-declaring costs one round trip and recreates a stream deleted
	// under us.
	if _, err := declareOn(env, l.cfg); err != nil {
		_ = env.Close()
		return nil, err
	}
	// The producer talks to the stream's leader, wherever it is.
	if env, err = routeEnv(env, l.cfg, roleProducer); err != nil {
		return nil, err
	}
	opts := stream.NewProducerOptions().
		SetProducerName(l.producer).
		SetClientProvidedName(l.cfg.Name + "/events-producer").
		SetQueueSize(maxInflight + frameEvents)
	prod, err := env.NewProducer(l.cfg.Stream, opts)
	if err != nil {
		_ = env.Close()
		return nil, fmt.Errorf("producer on %q: %w", l.cfg.Stream, err)
	}
	s := &producerSession{env: env, prod: prod, failed: make(chan struct{})}
	confirms := prod.NotifyPublishConfirmation()
	s.closed = prod.NotifyClose()
	// What the broker already stored (from an earlier session) needs no
	// second copy.
	if last, err := prod.GetLastPublishingId(); err == nil {
		s.stored = l.pend.confirmUpTo(last)
		l.confirmed.Add(int64(s.stored))
	}
	l.pend.rewind()
	// The drainer outlives the session by up to the client's own close
	// (which waits 500 ms for stragglers); the next session need not
	// wait for it: a late confirmation is still true.
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.drainConfirms(confirms, s)
	}()
	return s, nil
}

// drainConfirms settles confirmed events until the client closes the
// channel (when the producer closes). The client delivers confirmations
// from its reader goroutine and blocks it until they are taken, so this
// never waits on anything else.
func (l *Log) drainConfirms(confirms stream.ChannelPublishConfirm, s *producerSession) {
	failed := s.failed
	var once sync.Once
	for statuses := range confirms {
		for _, st := range statuses {
			last := st.GetPublishingId()
			first := last
			if v, ok := s.ranges.LoadAndDelete(last); ok {
				first = v.(int64)
			}
			if st.IsConfirmed() {
				l.confirmed.Add(int64(l.pend.confirmRange(first, last)))
				continue
			}
			// Refused or timed out: end the session and send it again
			// on a new one (the ids make that safe).
			once.Do(func() {
				l.log.Debug("publish not confirmed", "publishing_id", st.GetPublishingId(), "err", st.GetError())
				close(failed)
			})
		}
	}
}

// close ends the session: the producer (if the client has not already),
// then its connections. The confirmation drainer ends when the client
// closes its channel.
func (s *producerSession) close() {
	_ = s.prod.Close() // AlreadyClosed when the connection was lost
	_ = s.env.Close()
}

// runProducer publishes session after session until ctx ends.
func (l *Log) runProducer(ctx context.Context, s *producerSession) {
	for {
		l.producerUp.Store(true)
		err := l.publish(ctx, s)
		l.producerUp.Store(false)
		s.close()
		if ctx.Err() != nil {
			return
		}
		l.outage.Lost(l.session("producer"), err)
		l.log.Debug("event producer lost; reconnecting", "err", err, "pending", l.pend.len())
		var ok bool
		if s, ok = redial(ctx, l, "producer", l.connectProducer); !ok {
			return
		}
		l.outage.Up(l.session("producer"))
		l.log.Debug("event producer reconnected", "pending", l.pend.len(), "found_stored", s.stored)
	}
}

var errNotConfirmed = errors.New("broker did not confirm a message")

// publish sends batches of pending events until the session breaks or ctx
// ends.
func (l *Log) publish(ctx context.Context, s *producerSession) error {
	batch := make([]outgoing, 0, frameEvents)
	msgs := make([]message.StreamMessage, 0, frameEvents)
	for {
		select {
		case ev := <-s.closed:
			return fmt.Errorf("producer closed: %s", ev.Reason)
		case <-s.failed:
			return errNotConfirmed
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		// Linger when less than a frame's worth waits, so frames fill
		// up: the broker's work is per frame.
		if n := l.pend.unsent(); n > 0 && n < frameEvents {
			if err := l.lingerFor(ctx); err != nil {
				return err
			}
		}
		batch = l.pend.take(batch[:0], frameEvents, maxBatchBytes, maxInflight)
		if len(batch) == 0 {
			select {
			case <-l.pend.wake:
				continue
			case ev := <-s.closed:
				return fmt.Errorf("producer closed: %s", ev.Reason)
			case <-s.failed:
				return errNotConfirmed
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		msgs = msgs[:0]
		for i := 0; i < len(batch); {
			// A message holds a run of consecutive ids (take skips
			// events confirmed out of order, leaving gaps).
			j, size := i+1, len(batch[i].body)
			for j < len(batch) && j-i < eventsPerMessage && batch[j].seq == batch[j-1].seq+1 && size+1+len(batch[j].body) <= maxMessageBytes {
				size += 1 + len(batch[j].body)
				j++
			}
			body := make([]byte, 0, size)
			for k := i; k < j; k++ {
				if k > i {
					body = append(body, '\n')
				}
				body = append(body, batch[k].body...)
			}
			m := amqp.NewMessage(body)
			m.ApplicationProperties = map[string]interface{}{appPropProducer: l.producer}
			m.SetPublishingId(batch[j-1].seq)
			s.ranges.Store(batch[j-1].seq, batch[i].seq)
			msgs = append(msgs, m)
			i = j
		}
		if err := s.prod.BatchSend(msgs); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		l.published.Add(int64(len(batch)))
	}
}

// lingerFor lets a publish frame fill up: linger, or durableLinger once a
// worker waits for its events to be stored.
func (l *Log) lingerFor(ctx context.Context) error {
	d := linger
	if l.pend.waiting() {
		d = durableLinger
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case <-l.pend.hurry:
			if d == linger {
				d = durableLinger
				t.Reset(d)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
