package queuebench

import (
	"crypto/tls"
	"net/url"

	"oms-sim/engine/broker"

	"context"
	"encoding/binary"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sync/errgroup"
)

// runAMQP measures a classic or quorum queue: one publisher connection
// with confirms, one consumer connection with manual acks.
//
// Of a list of nodes, the first is used: clients and the queue's leader
// (declared there) on one node, as a client of a cluster usually is;
// a quorum queue still replicates to the others.
func runAMQP(ctx context.Context, cfg Config, typ string) (Result, error) {
	if urls := broker.SplitURLs(cfg.AMQPURL); len(urls) > 0 {
		cfg.AMQPURL = urls[0]
	}
	q := queueName(cfg, typ)
	admin, err := amqp.DialConfig(cfg.AMQPURL, amqp.Config{TLSClientConfig: tlsFor(cfg)})
	if err != nil {
		return Result{}, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close()
	ach, err := admin.Channel()
	if err != nil {
		return Result{}, err
	}
	if _, err := ach.QueueDeclare(q, true, false, false, false, amqp.Table{"x-queue-type": typ}); err != nil {
		return Result{}, fmt.Errorf("declare %s: %w", q, err)
	}
	defer func() { _, _ = ach.QueueDelete(q, false, false, false) }()

	m := newMeter(cfg.Warmup, cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, m.to)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return amqpPublish(ctx, cfg, q, m) })
	g.Go(func() error { return amqpConsume(ctx, cfg, q, m) })
	err = g.Wait()
	if err == context.DeadlineExceeded || err == context.Canceled {
		err = nil
	}
	return m.result(), err
}

// tlsFor is a copy of cfg.TLS for one connection (amqp091 writes the
// server name into it), nil for amqp091's default.
func tlsFor(cfg Config) *tls.Config {
	if cfg.TLS == nil {
		return nil
	}
	host := ""
	if u, err := url.Parse(cfg.AMQPURL); err == nil {
		host = u.Hostname()
	}
	return broker.ForHost(cfg.TLS, host)
}

// channel opens a named connection with one channel; closing the
// connection closes both.
func channel(cfg Config, name string) (*amqp.Connection, *amqp.Channel, error) {
	conn, err := amqp.DialConfig(cfg.AMQPURL, amqp.Config{Properties: amqp.Table{"connection_name": name}, TLSClientConfig: tlsFor(cfg)})
	if err != nil {
		return nil, nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, ch, nil
}

func amqpPublish(ctx context.Context, cfg Config, q string, m *meter) error {
	conn, ch, err := channel(cfg, "oms-sim bench publisher")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ch.Confirm(false); err != nil {
		return err
	}
	body := make([]byte, cfg.Size)
	pending := make(chan *amqp.DeferredConfirmation, cfg.InFlight)
	waiterDone := make(chan error, 1)
	go func() {
		for dc := range pending {
			if !dc.Wait() {
				waiterDone <- fmt.Errorf("publish to %s not confirmed", q)
				for range pending {
				}
				return
			}
			m.onPublished(time.Now())
		}
		waiterDone <- nil
	}()
	defer func() { close(pending) }()
	for ctx.Err() == nil {
		binary.BigEndian.PutUint64(body, uint64(time.Now().UnixNano()))
		dc, err := ch.PublishWithDeferredConfirm("", q, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body})
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		select {
		case pending <- dc: // blocks while InFlight are unconfirmed
		case <-ctx.Done():
		case err := <-waiterDone:
			return err
		}
	}
	return ctx.Err()
}

func amqpConsume(ctx context.Context, cfg Config, q string, m *meter) error {
	conn, ch, err := channel(cfg, "oms-sim bench consumer")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ch.Qos(cfg.Prefetch, 0, false); err != nil {
		return err
	}
	ds, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d, ok := <-ds:
			if !ok {
				return fmt.Errorf("consumer of %s closed", q)
			}
			if len(d.Body) >= 8 {
				m.onConsumed(int64(binary.BigEndian.Uint64(d.Body)))
			}
			if err := d.Ack(false); err != nil {
				return fmt.Errorf("ack: %w", err)
			}
		}
	}
}
