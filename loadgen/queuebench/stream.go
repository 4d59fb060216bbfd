package queuebench

import (
	"context"
	"encoding/binary"
	"fmt"
	"oms-sim/engine/streamlog"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

// batchSize is how many messages the stream producer sends per frame.
const batchSize = 100

// runStream measures a stream over the stream protocol: a producer with
// confirmations (at most InFlight unconfirmed) and a consumer from the
// stream's start.
func runStream(ctx context.Context, cfg Config) (Result, error) {
	// The producer and consumer go to the nodes holding the stream, as
	// the event log's do (streamlog/route.go): on a cluster, not
	// necessarily the URL's node.
	env, err := streamlog.DialEnv(cfg.StreamURL, cfg.SocketBuffer, cfg.TLS)
	if err != nil {
		return Result{}, fmt.Errorf("stream connect: %w", err)
	}
	name := queueName(cfg, Stream)
	if err := env.DeclareStream(name, stream.NewStreamOptions().SetMaxLengthBytes(stream.ByteCapacity{}.GB(2))); err != nil {
		_ = env.Close()
		return Result{}, fmt.Errorf("declare stream %s: %w", name, err)
	}
	if env, err = streamlog.RouteEnv(env, cfg.StreamURL, name, cfg.SocketBuffer, cfg.TLS); err != nil {
		return Result{}, fmt.Errorf("stream %s: %w", name, err)
	}
	defer env.Close()
	defer func() { _ = env.DeleteStream(name) }()

	m := newMeter(cfg.Warmup, cfg.Duration)
	cons, err := env.NewConsumer(name, func(_ stream.ConsumerContext, msg *amqp.Message) {
		if d := msg.GetData(); len(d) >= 8 {
			m.onConsumed(int64(binary.BigEndian.Uint64(d)))
		}
	}, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()).SetInitialCredits(int16(min(cfg.Prefetch/batchSize+1, 1000))))
	if err != nil {
		return Result{}, fmt.Errorf("stream consumer: %w", err)
	}
	defer cons.Close()
	prod, err := env.NewProducer(name, stream.NewProducerOptions())
	if err != nil {
		return Result{}, fmt.Errorf("stream producer: %w", err)
	}
	defer prod.Close()

	// Confirmations come in batches; a token per unconfirmed message
	// bounds how many are outstanding.
	tokens := make(chan struct{}, cfg.InFlight)
	confirms := prod.NotifyPublishConfirmation()
	go func() {
		for batch := range confirms {
			for _, c := range batch {
				if c.IsConfirmed() {
					m.onPublished(time.Now())
				}
				<-tokens
			}
		}
	}()
	ctx, cancel := context.WithDeadline(ctx, m.to)
	defer cancel()
	newMsg := func() message.StreamMessage {
		body := make([]byte, cfg.Size)
		binary.BigEndian.PutUint64(body, uint64(time.Now().UnixNano()))
		return amqp.NewMessage(body)
	}
	msgs := make([]message.StreamMessage, 0, batchSize)
	for {
		// Wait for room for one message, then batch what else fits now.
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return m.result(), nil
		}
		msgs = append(msgs[:0], newMsg())
	fill:
		for len(msgs) < batchSize {
			select {
			case tokens <- struct{}{}:
				msgs = append(msgs, newMsg())
			default:
				break fill
			}
		}
		if err := prod.BatchSend(msgs); err != nil {
			return m.result(), fmt.Errorf("stream send: %w", err)
		}
	}
}
