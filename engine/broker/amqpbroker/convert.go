package amqpbroker

import (
	"fmt"
	"math"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// publishing maps a broker.Message to an amqp.Publishing.
//
// AMQP timestamps have one-second resolution, so Timestamp arrives truncated
// to the second; sub-second times travel in headers (x-published-at).
func publishing(m broker.Message) (amqp.Publishing, error) {
	headers, err := toTable(m.Headers)
	if err != nil {
		return amqp.Publishing{}, err
	}
	p := amqp.Publishing{
		Headers:       headers,
		ContentType:   m.ContentType,
		MessageId:     m.MessageID,
		CorrelationId: m.CorrelationID,
		Timestamp:     m.Timestamp,
		Body:          m.Body,
		DeliveryMode:  amqp.Transient,
	}
	if m.Persistent {
		p.DeliveryMode = amqp.Persistent
	}
	return p, nil
}

// delivery maps an amqp.Delivery received from queue to a broker.Delivery.
// Integer headers come back as int32 or int64 whatever Go type they were
// sent as; RabbitMQ adds its own (x-death, x-first-death-*) on dead-lettering.
func delivery(queue string, d amqp.Delivery) broker.Delivery {
	var headers map[string]any
	if d.Headers != nil {
		headers = map[string]any(d.Headers)
	}
	return broker.Delivery{
		Message: broker.Message{
			Exchange:      d.Exchange,
			RoutingKey:    d.RoutingKey,
			ContentType:   d.ContentType,
			MessageID:     d.MessageId,
			CorrelationID: d.CorrelationId,
			Timestamp:     d.Timestamp,
			Persistent:    d.DeliveryMode == amqp.Persistent,
			Headers:       headers,
			Body:          d.Body,
		},
		Queue:       queue,
		Tag:         d.DeliveryTag,
		Redelivered: d.Redelivered,
	}
}

// toTable converts headers to an amqp.Table. amqp091 encodes a Go int as a
// 32-bit field and silently truncates it, which would corrupt a unix-nano
// x-published-at, so ints are widened to int64; unsigned ints, nested maps
// and string slices are converted too. Anything else amqp091 cannot encode
// is an error rather than a surprise on the wire.
func toTable(h map[string]any) (amqp.Table, error) {
	if h == nil {
		return nil, nil
	}
	if wireReady(h) {
		// The common case (every engine message): nothing to convert, so
		// no copy per publish. amqp091 only reads the table.
		return amqp.Table(h), nil
	}
	t := make(amqp.Table, len(h))
	for k, v := range h {
		fv, err := toField(v)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", k, err)
		}
		t[k] = fv
	}
	return t, nil
}

// wireReady reports whether every value of h is one amqp091 encodes as it
// is.
func wireReady(h map[string]any) bool {
	for _, v := range h {
		switch v.(type) {
		case nil, bool, byte, int8, int16, int32, int64, uint16, uint32,
			float32, float64, string, []byte, amqp.Decimal, time.Time:
		default:
			return false
		}
	}
	return true
}

func toField(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, byte, int8, int16, int32, int64, uint16, uint32,
		float32, float64, string, []byte, amqp.Decimal, time.Time:
		return x, nil
	case int:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("value %d overflows int64", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("value %d overflows int64", x)
		}
		return int64(x), nil
	case time.Duration:
		return int64(x), nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			fe, err := toField(e)
			if err != nil {
				return nil, fmt.Errorf("index %d: %w", i, err)
			}
			out[i] = fe
		}
		return out, nil
	case amqp.Table:
		return toTable(x)
	case map[string]any:
		return toTable(x)
	default:
		return nil, fmt.Errorf("type %T cannot be sent as an AMQP header", v)
	}
}
