package engine

import (
	"fmt"
	"time"

	"oms-sim/engine/broker"
)

// Exchange and queue names (DESIGN.md §3).
const (
	ExchangeOrders = "orders"     // topic: every lifecycle message
	ExchangeDLX    = "orders.dlx" // topic: dead letters, bound to QueueDead
	// ExchangeRetry is a direct exchange that both feeds the retry queues
	// (by their name) and takes expired retries back to a stage's work
	// queue (by the work queue's name).
	ExchangeRetry = "orders.retry"
	QueueDead     = "oms.dead"
)

// Routing keys (DESIGN.md §3). The first three are the seed demo's.
const (
	KeyOrderCreated     = "order.created"
	KeyPaymentSuccess   = "payment.success"
	KeyInventoryUpdated = "inventory.updated"
	KeyPaymentFailed    = "payment.failed"
	KeyInventoryFailed  = "inventory.failed"
	KeyPaymentRefunded  = "payment.refunded"
	KeyEmailSent        = "email.sent"
)

// Message headers.
const (
	HeaderPublishedAt = "x-published-at" // unix ns of the publish, for queue wait
	HeaderAttempt     = "x-attempt"      // 1 for the first delivery
	HeaderRoutingKey  = "x-routing-key"  // original key, kept through retries
	HeaderDeadReason  = "x-dead-reason"  // why a message was dead-lettered
	HeaderDeadStage   = "x-dead-stage"   // the stage that gave up on it
	HeaderAcceptedAt  = "x-accepted-at"  // unix ns the API accepted the order
)

// Stage names.
const (
	StagePayment   = "payment"
	StageInventory = "inventory"
	StageEmail     = "email"
)

// StageNames lists the stages in pipeline order.
var StageNames = []string{StagePayment, StageInventory, StageEmail}

// StageQueue returns the work queue of a stage.
func StageQueue(stage string) string { return "oms." + stage }

// stageKeys maps each stage to the routing keys bound to its queue.
var stageKeys = map[string][]string{
	StagePayment:   {KeyOrderCreated, KeyInventoryFailed},
	StageInventory: {KeyPaymentSuccess},
	StageEmail:     {KeyPaymentFailed, KeyInventoryUpdated, KeyPaymentRefunded},
}

// DefaultRetryDelays are the backoff levels, one retry queue each.
var DefaultRetryDelays = []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second}

// retryQueue names the retry queue of a stage for one delay level.
func retryQueue(stage string, delay time.Duration) string {
	return fmt.Sprintf("oms.%s.retry.%s", stage, delay)
}

// Topology returns everything the engine declares: work, retry and dead
// queues of type queueType, the exchanges, and the bindings.
func Topology(queueType string, delays []time.Duration) broker.Topology {
	t := broker.Topology{
		Exchanges: []broker.Exchange{
			{Name: ExchangeOrders, Kind: broker.Topic},
			{Name: ExchangeDLX, Kind: broker.Topic},
			{Name: ExchangeRetry, Kind: broker.Direct},
		},
		Queues: []broker.Queue{{Name: QueueDead, Type: queueType}},
		Bindings: []broker.Binding{
			{Exchange: ExchangeDLX, Queue: QueueDead, Key: "#"},
		},
	}
	for _, stage := range StageNames {
		q := StageQueue(stage)
		t.Queues = append(t.Queues, broker.Queue{Name: q, Type: queueType})
		for _, k := range stageKeys[stage] {
			t.Bindings = append(t.Bindings, broker.Binding{Exchange: ExchangeOrders, Queue: q, Key: k})
		}
		t.Bindings = append(t.Bindings, broker.Binding{Exchange: ExchangeRetry, Queue: q, Key: q})
		for _, d := range delays {
			rq := retryQueue(stage, d)
			t.Queues = append(t.Queues, broker.Queue{
				Name: rq, Type: queueType, TTL: d,
				DeadLetterExchange: ExchangeRetry, DeadLetterRoutingKey: q,
			})
			t.Bindings = append(t.Bindings, broker.Binding{Exchange: ExchangeRetry, Queue: rq, Key: rq})
		}
	}
	return t
}
