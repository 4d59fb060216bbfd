package embedded

import (
	"maps"
	"slices"
	"time"

	"oms-sim/engine/broker"
)

// qmsg is a message sitting in (or handed out from) one queue. Its Message is
// never mutated after it is stored: the broker copies what a client could
// change on the way in (Publish) and on the way out (each Delivery), so
// several queues can share one Message value safely.
type qmsg struct {
	msg         broker.Message
	enqueued    time.Time // for queue TTL; kept across requeues, as RabbitMQ does
	redelivered bool
}

// cloneMessage returns a copy of m that shares no mutable memory with it.
func cloneMessage(m broker.Message) broker.Message {
	m.Headers = cloneHeaders(m.Headers)
	if m.Body != nil {
		m.Body = slices.Clone(m.Body)
	}
	return m
}

func cloneHeaders(h map[string]any) map[string]any {
	if h == nil {
		return nil
	}
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies the mutable kinds an AMQP header table can hold;
// everything else (numbers, strings, time.Time, ...) is a value already.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneHeaders(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	case []byte:
		return slices.Clone(v)
	default:
		return v
	}
}

// shallowHeaders copies the top level of h so one key can be replaced without
// touching values shared with other queues.
func shallowHeaders(h map[string]any) map[string]any {
	out := make(map[string]any, len(h)+4)
	maps.Copy(out, h)
	return out
}
