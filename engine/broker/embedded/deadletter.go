package embedded

import (
	"time"
)

// Dead-letter reasons, as RabbitMQ writes them in x-death.
const (
	reasonExpired  = "expired"
	reasonRejected = "rejected"
)

// deadLetterLocked republishes m, which has left q for reason, to q's
// dead-letter exchange with its dead-letter routing key (or its own routing
// key when none is set). Without a dead-letter exchange, or when that exchange
// does not exist, the message is dropped, as RabbitMQ does. Headers, message
// id and every other property are kept; x-death records the hop.
func (b *Broker) deadLetterLocked(q *queue, m *qmsg, reason string, now time.Time) {
	dlx := q.cfg.DeadLetterExchange
	if dlx == "" {
		return
	}
	if _, ok := b.exchanges[dlx]; !ok {
		return
	}
	msg := m.msg
	key := q.cfg.DeadLetterRoutingKey
	if key == "" {
		key = msg.RoutingKey
	}
	msg.Headers = withDeath(msg.Headers, death{
		queue:      q.name,
		reason:     reason,
		exchange:   msg.Exchange,
		routingKey: msg.RoutingKey,
		at:         now,
	})
	msg.Exchange = dlx
	msg.RoutingKey = key
	// The exchange exists, so routing cannot fail.
	_, _ = b.publishLocked(msg, now)
}

// death is one dead-lettering event.
type death struct {
	queue, reason, exchange, routingKey string
	at                                  time.Time
}

// withDeath returns a copy of h with d recorded the way RabbitMQ does it:
// x-death is a list of tables, newest first, one per (queue, reason) with a
// count; x-first-death-* are set once and x-last-death-* every time. The
// input map and its nested values are never modified, since other queues may
// share them.
func withDeath(h map[string]any, d death) map[string]any {
	out := shallowHeaders(h)
	old, _ := h["x-death"].([]any)
	deaths := make([]any, 0, len(old)+1)
	var count int64 = 1
	for _, e := range old {
		t, ok := e.(map[string]any)
		if ok && t["queue"] == d.queue && t["reason"] == d.reason {
			if n, ok := t["count"].(int64); ok {
				count = n + 1
			}
			continue // replaced by the updated entry at the front
		}
		deaths = append(deaths, e)
	}
	entry := map[string]any{
		"count":        count,
		"reason":       d.reason,
		"queue":        d.queue,
		"time":         d.at,
		"exchange":     d.exchange,
		"routing-keys": []any{d.routingKey},
	}
	out["x-death"] = append([]any{entry}, deaths...)
	if _, ok := out["x-first-death-reason"]; !ok {
		out["x-first-death-reason"] = d.reason
		out["x-first-death-queue"] = d.queue
		out["x-first-death-exchange"] = d.exchange
	}
	out["x-last-death-reason"] = d.reason
	out["x-last-death-queue"] = d.queue
	out["x-last-death-exchange"] = d.exchange
	return out
}
