package engine

import (
	"time"

	"github.com/google/uuid"

	"oms-sim/engine/broker"
)

// messages builds the messages the engine publishes, as DESIGN.md §3
// specifies their properties, with the configured body size and delivery
// mode; and remembers and rebuilds them for redeliveries.
type messages struct {
	exchange  string          // the orders exchange, in the namespace
	bodyBytes int             // Config.BodyBytes
	transient bool            // Config.Transient
	consumed  map[string]bool // keys a stage consumes (Routes.consumed): published mandatory
}

// build returns the message for key carrying order o.
func (m messages) build(o Order, key string) broker.Message {
	body := o.AppendJSONPadded(make([]byte, 0, max(256, m.bodyBytes)), m.bodyBytes)
	now := time.Now()
	return broker.Message{
		Exchange:      m.exchange,
		RoutingKey:    key,
		ContentType:   "application/json",
		MessageID:     o.OrderID + ":" + key,
		CorrelationID: o.OrderID,
		Timestamp:     now,
		Persistent:    !m.transient,
		// Mandatory: a message no queue takes comes back instead of being
		// confirmed and dropped — except what no stage consumes (by
		// default email.sent, the end of the pipeline).
		Mandatory: m.consumed[key],
		Headers: map[string]any{
			HeaderPublishedAt: now.UnixNano(),
			HeaderAttempt:     int64(1),
		},
		Body: body,
	}
}

// remember keeps what a redelivery of msg's cause needs. A padded body
// (Config.BodyBytes) is kept without its padding, so the dedupe set's
// memory does not grow with the configured body size.
func (m messages) remember(msg broker.Message) remembered {
	body := msg.Body
	if m.bodyBytes > 0 {
		body = unpadJSON(body)
	}
	return remembered{key: msg.RoutingKey, orderID: msg.CorrelationID, body: body}
}

// resend rebuilds the message a remembered outcome published.
func (m messages) resend(r remembered) broker.Message {
	msg := m.build(Order{OrderID: r.orderID}, r.key)
	msg.Body = r.body
	if m.bodyBytes > len(r.body) {
		msg.Body = padJSON(append(make([]byte, 0, m.bodyBytes), r.body...), 0, m.bodyBytes)
	}
	return msg
}

// newOrderID returns a time-ordered UUIDv7.
func newOrderID() string { return uuid.Must(uuid.NewV7()).String() }
