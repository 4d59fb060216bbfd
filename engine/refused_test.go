package engine

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/brokertest"
)

// TestBrokerNackGoesThroughTheRetryLadder makes RabbitMQ nack every
// payment.success a payment worker publishes: a policy gives the
// inventory queue x-max-length 0 with reject-publish, so the broker
// refuses each message routed to it and nacks the publisher. Each order
// must take its retries, with its attempt count, and end dead-lettered
// with the reason — never be dropped, nor spin through requeues for ever.
// Once the policy is gone, orders complete again.
func TestBrokerNackGoesThroughTheRetryLadder(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), func(c *Config) { c.MaxAttempts = 3 })
	policy := e.names.Of("nack-trap")
	brokertest.Rabbitmqctl(t, "set_policy", "--apply-to", "queues", "--priority", "100", policy,
		"^"+regexp.QuoteMeta(e.names.Queue(StageInventory))+"$", `{"max-length":0,"overflow":"reject-publish"}`)
	cleared := false
	clear := func() {
		if !cleared {
			cleared = true
			brokertest.Rabbitmqctl(t, "clear_policy", policy)
		}
	}
	defer clear()
	// The policy takes effect asynchronously: wait until a publish is
	// refused.
	waitFor(t, 20*time.Second, "the policy to refuse payment.success", func() bool {
		return e.stages[StagePayment].snapshot().Retried > 0 || probeRefused(t, e)
	})

	const n = 20
	recs := placeDeadLettered(t, e, n, "every payment.success refused")
	if len(recs) == 0 || !strings.Contains(lastDetail(recs[0], EventDeadLettered), "refused") {
		t.Errorf("dead-letter reason of %+v: want it to say the broker refused the message", recs)
	}

	clear()
	placeConfirmed(t, e, n, "after the policy was cleared")
}

// placeDeadLettered places n orders while payment cannot publish
// payment.success (as cause says) and fails unless all n end
// dead-lettered, none confirmed, after payment retried each (attempts 1
// and 2). It returns the newest order's record, with its events.
func placeDeadLettered(t *testing.T, e *Engine, n int64, cause string) []OrderRecord {
	t.Helper()
	before := e.Counts()
	placeMany(t, e, int(n), 8)
	c := waitSettled(t, e, 60*time.Second)
	if got := c.DeadLettered - before.DeadLettered; c.Accepted-before.Accepted != n || got != n || c.Duplicated != 0 || c.Confirmed != before.Confirmed {
		t.Fatalf("with %s: %+v (before %+v), want %d more dead-lettered, none confirmed", cause, c, before, n)
	}
	pay := e.stages[StagePayment].snapshot()
	if pay.Retried < n*2 || pay.Dead < n {
		t.Errorf("payment retried %d, dead %d; want ≥ %d retries (attempts 1 and 2) and ≥ %d dead letters", pay.Retried, pay.Dead, n*2, n)
	}
	recs, _ := e.store.list(OrderQuery{Limit: 1, Events: true})
	return recs
}

// placeConfirmed places n orders and fails unless all n are confirmed;
// when says in which state of the test.
func placeConfirmed(t *testing.T, e *Engine, n int64, when string) {
	t.Helper()
	before := e.Counts()
	placeMany(t, e, int(n), 8)
	if c := waitSettled(t, e, 60*time.Second); c.Confirmed-before.Confirmed != n {
		t.Errorf("%s: %+v (before %+v), want %d more confirmed", when, c, before, n)
	}
}

// probeRefused places one order and reports whether it was dead-lettered
// (the policy is in force) rather than confirmed.
func probeRefused(t *testing.T, e *Engine) bool {
	before := e.Counts()
	placeMany(t, e, 1, 1)
	c := waitSettled(t, e, 30*time.Second)
	return c.DeadLettered > before.DeadLettered
}

func lastDetail(r OrderRecord, typ string) string {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Type == typ {
			return r.Events[i].Detail
		}
	}
	return ""
}
