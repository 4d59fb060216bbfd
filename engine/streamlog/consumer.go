package streamlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"

	"oms-sim/engine"
)

// Consuming: like the producer, one consumer per connection session. A
// new session subscribes at the offset after the last one delivered, so
// subscribers see no gap and no repeat. The client dispatches a chunk's
// messages without looking at the consumer's state, so a closed consumer
// may still call its handler for the rest of its chunk: each session's
// handler carries its generation, and calls from an older one are
// ignored.

// consumerSession is one connection's consumer.
type consumerSession struct {
	env    *stream.Environment
	cons   *stream.Consumer
	closed stream.ChannelClose
}

func (l *Log) connectConsumer(spec stream.OffsetSpecification) (*consumerSession, error) {
	env, err := l.newEnv()
	if err != nil {
		return nil, err
	}
	l.deliverMu.Lock()
	l.gen++
	gen := l.gen
	l.deliverMu.Unlock()
	opts := stream.NewConsumerOptions().
		SetOffset(spec).
		SetClientProvidedName(l.cfg.Name + "/events-consumer")
	cons, err := env.NewConsumer(l.cfg.Stream, func(cc stream.ConsumerContext, m *amqp.Message) {
		l.deliver(gen, cc.Consumer.GetOffset(), m)
	}, opts)
	if err != nil {
		_ = env.Close()
		return nil, fmt.Errorf("consumer on %q: %w", l.cfg.Stream, err)
	}
	return &consumerSession{env: env, cons: cons, closed: cons.NotifyClose()}, nil
}

func (s *consumerSession) close() {
	_ = s.cons.Close() // AlreadyClosed when the connection was lost
	_ = s.env.Close()
}

// deliver hands one message to the subscribers, unless it comes from a
// replaced consumer or was delivered already.
func (l *Log) deliver(gen, offset int64, m *amqp.Message) {
	l.deliverMu.Lock()
	defer l.deliverMu.Unlock()
	if gen != l.gen || offset <= l.lastOff {
		return
	}
	l.lastOff = offset
	if p, _ := m.ApplicationProperties[appPropProducer].(string); p == l.producer {
		return // our own events: delivered when appended
	}
	subs := *l.subs.Load()
	if len(subs) == 0 {
		l.delivered.Add(int64(bytes.Count(m.GetData(), []byte{'\n'}) + 1)) // nobody to decode them for
		return
	}
	for _, line := range bytes.Split(m.GetData(), []byte{'\n'}) {
		var ev engine.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			l.undecodable.Add(1)
			continue
		}
		l.delivered.Add(1)
		for _, s := range subs {
			s.fn(ev)
		}
	}
}

// resumeAt is where a new consumer session starts: after the last
// delivered offset, or, if nothing was delivered yet, at the chunks
// written since the log opened (a second early for clock skew between
// this host and the broker's).
func (l *Log) resumeAt() stream.OffsetSpecification {
	l.deliverMu.Lock()
	defer l.deliverMu.Unlock()
	l.gen++ // from here on the old consumer's calls are stale
	if l.lastOff >= 0 {
		return stream.OffsetSpecification{}.Offset(l.lastOff + 1)
	}
	return stream.OffsetSpecification{}.Timestamp(l.startedAt.Add(-time.Second).UnixMilli())
}

// runConsumer keeps a consumer session up until ctx ends.
func (l *Log) runConsumer(ctx context.Context, s *consumerSession) {
	for {
		l.consumerUp.Store(true)
		var reason string
		select {
		case ev := <-s.closed:
			reason = ev.Reason
		case <-ctx.Done():
		}
		l.consumerUp.Store(false)
		spec := l.resumeAt()
		s.close()
		if ctx.Err() != nil {
			return
		}
		l.outage.Lost(l.session("consumer"), errors.New(reason))
		l.log.Debug("event consumer lost; reconnecting", "reason", reason, "resume_at", spec.String())
		var ok bool
		s, ok = redial(ctx, l, "consumer", func() (*consumerSession, error) { return l.connectConsumer(spec) })
		if !ok {
			return
		}
		l.outage.Up(l.session("consumer"))
		l.log.Debug("event consumer reconnected", "resume_at", spec.String())
	}
}
