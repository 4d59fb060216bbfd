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
	HeaderRedone      = "x-redone"       // true: published by work that may have been done before (Event.Redone)
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

// StageQueue returns the work queue of a stage.
func StageQueue(stage string) string { return "oms." + stage }

// DeliveryLimit is the x-delivery-limit of quorum work queues. Handler
// failures never count against it: they are retried by publishing a new
// copy through the retry queues (x-attempt, up to MaxAttempts) and
// dead-lettered by the engine with a reason. A delivery is requeued only
// when its worker stops or its connection dies before the ack — a worker
// scaled down, a node failing over — so the limit is far above what
// failovers cause, and bounds only a message that kills whatever takes
// it. Past it the broker dead-letters the message to orders.dlx with
// routing key "<queue>.delivery-limit" (so it lands in oms.dead).
const DeliveryLimit = 20

// DefaultRetryDelays are the backoff levels, one retry queue each.
var DefaultRetryDelays = []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second}

// retryQueue names the retry queue of a stage for one delay level.
func retryQueue(stage string, delay time.Duration) string {
	return fmt.Sprintf("oms.%s.retry.%s", stage, delay)
}

// Names maps the engine's exchange and queue names into a namespace, so
// several independent pipelines (or parallel tests) can share a broker.
// The zero Names is the default namespace: the names of DESIGN.md §3.
type Names struct{ Namespace string }

// Of returns name in the namespace: "ns.name", or name itself when the
// namespace is empty.
func (n Names) Of(name string) string {
	if n.Namespace == "" {
		return name
	}
	return n.Namespace + "." + name
}

// Queue returns a stage's work queue in the namespace.
func (n Names) Queue(stage string) string { return n.Of(StageQueue(stage)) }

// Retry returns a stage's retry queue for one delay level.
func (n Names) Retry(stage string, delay time.Duration) string { return n.Of(retryQueue(stage, delay)) }

// Topology returns everything an engine on the standard route table
// declares in the namespace (Routes.Topology).
func (n Names) Topology(queueType string, delays []time.Duration) broker.Topology {
	return StandardRoutes().Topology(n, queueType, delays)
}

// Topology returns everything an engine on the table declares in the
// namespace n: work, retry and dead queues of type queueType, the
// exchanges, and the bindings: each route binds its key to its stage's
// work queue.
func (r Routes) Topology(n Names, queueType string, delays []time.Duration) broker.Topology {
	orders, dlx, retry, dead := n.Of(ExchangeOrders), n.Of(ExchangeDLX), n.Of(ExchangeRetry), n.Of(QueueDead)
	t := broker.Topology{
		Exchanges: []broker.Exchange{
			{Name: orders, Kind: broker.Topic},
			{Name: dlx, Kind: broker.Topic},
			{Name: retry, Kind: broker.Direct},
		},
		Queues: []broker.Queue{{Name: dead, Type: queueType}},
		Bindings: []broker.Binding{
			{Exchange: dlx, Queue: dead, Key: "#"},
		},
	}
	for _, stage := range r.Stages() {
		q := n.Queue(stage)
		work := broker.Queue{Name: q, Type: queueType}
		if queueType == broker.Quorum {
			// Set on every broker, so 3.x and 4.x behave alike, and
			// dead-lettered to oms.dead, never dropped (4.x drops a message
			// past its default limit of 20 when the queue has no DLX).
			work.DeliveryLimit = DeliveryLimit
			work.DeadLetterExchange, work.DeadLetterRoutingKey = dlx, q+".delivery-limit"
		}
		t.Queues = append(t.Queues, work)
		for _, k := range r.Keys(stage) {
			t.Bindings = append(t.Bindings, broker.Binding{Exchange: orders, Queue: q, Key: k})
		}
		t.Bindings = append(t.Bindings, broker.Binding{Exchange: retry, Queue: q, Key: q})
		for _, d := range delays {
			rq := n.Retry(stage, d)
			t.Queues = append(t.Queues, broker.Queue{
				Name: rq, Type: queueType, TTL: d,
				DeadLetterExchange: retry, DeadLetterRoutingKey: q,
			})
			t.Bindings = append(t.Bindings, broker.Binding{Exchange: retry, Queue: rq, Key: rq})
		}
	}
	return t
}
