package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/broker/embedded"
)

// openBroker chooses the broker as DESIGN.md §3 says: auto falls back to
// the embedded broker only when the user named no broker explicitly.
func openBroker(ctx context.Context, o runOptions, log *slog.Logger) (d broker.Dialer, kind, note string, err error) {
	switch o.brokerMode {
	case "embedded":
		return embedded.New(), "embedded", "embedded broker (--broker embedded)", nil
	case "rabbitmq":
		return amqpbroker.New(o.amqpURL, o.amqpOptions()...), "rabbitmq", o.tlsNote(), nil
	case "auto":
		if err := amqpbroker.Ping(ctx, o.amqpURL, o.amqpOptions()...); err != nil {
			if errors.Is(err, broker.ErrBadURL) {
				return nil, "", "", exitWith(exitUsage, err)
			}
			if amqpbroker.IsRefused(err) {
				return nil, "", "", exitWith(exitUnreachable, fmt.Errorf("RabbitMQ at %s refused the connection: %v (check user, password and vhost)", amqpbroker.Redact(o.amqpURL), err))
			}
			if o.amqpSet || os.Getenv("OMS_AMQP_URL") != "" {
				// Named explicitly: never silently replaced.
				return amqpbroker.New(o.amqpURL, o.amqpOptions()...), "rabbitmq", o.tlsNote(), nil
			}
			note := fmt.Sprintf("EMBEDDED BROKER: no RabbitMQ at %s (%v); messages live in this process only", amqpbroker.Redact(o.amqpURL), err)
			log.Warn(note)
			return embedded.New(), "embedded", note, nil
		}
		return amqpbroker.New(o.amqpURL, o.amqpOptions()...), "rabbitmq", o.tlsNote(), nil
	}
	return nil, "", "", exitWith(exitUsage, fmt.Errorf("--broker %q: valid are auto, rabbitmq, embedded", o.brokerMode))
}

// amqpOptions are the dialer options the flags set.
func (o runOptions) amqpOptions() []amqpbroker.Option {
	return []amqpbroker.Option{amqpbroker.WithTLS(o.tlsConf), amqpbroker.WithWriteBatching(o.writeBatch)}
}
