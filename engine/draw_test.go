package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

func TestDrawIsAPureFunctionOfSeedAndOrder(t *testing.T) {
	t.Parallel()
	u := func(seed uint64, id, stage, key string, attempt int64, what uint64) float64 {
		return drawUniform(seed, id, stage, key, attempt, what)
	}
	base := u(1, "o-1", StagePayment, KeyOrderCreated, 1, drawDecline)
	if again := u(1, "o-1", StagePayment, KeyOrderCreated, 1, drawDecline); again != base {
		t.Fatalf("the same inputs drew %v then %v", base, again)
	}
	// Every input matters.
	for name, v := range map[string]float64{
		"seed":    u(2, "o-1", StagePayment, KeyOrderCreated, 1, drawDecline),
		"order":   u(1, "o-2", StagePayment, KeyOrderCreated, 1, drawDecline),
		"stage":   u(1, "o-1", StageInventory, KeyOrderCreated, 1, drawDecline),
		"key":     u(1, "o-1", StagePayment, KeyInventoryFailed, 1, drawDecline),
		"attempt": u(1, "o-1", StagePayment, KeyOrderCreated, 2, drawDecline),
		"what":    u(1, "o-1", StagePayment, KeyOrderCreated, 1, drawError),
	} {
		if v == base {
			t.Errorf("changing the %s drew the same %v", name, v)
		}
	}
	// Uniform in [0, 1): the mean and the share under 0.1 of 20 000 orders.
	const n = 20000
	var sum float64
	under := 0
	for i := range n {
		v := u(42, fmt.Sprintf("order-%d", i), StagePayment, KeyOrderCreated, 1, drawDecline)
		if v < 0 || v >= 1 {
			t.Fatalf("draw %v outside [0, 1)", v)
		}
		sum += v
		if v < 0.1 {
			under++
		}
	}
	if m := sum / n; math.Abs(m-0.5) > 0.01 {
		t.Errorf("mean %v, want 0.5 ± 0.01", m)
	}
	if share := float64(under) / n; math.Abs(share-0.1) > 0.01 {
		t.Errorf("%.3f under 0.1, want 0.1 ± 0.01", share)
	}
}

// TestSameSeedSameOutcomePerOrder runs the same orders (same ids)
// through two pipelines with the same seed but different worker counts on
// the real broker: each order is declined, or not, in both.
func TestSameSeedSameOutcomePerOrder(t *testing.T) {
	t.Parallel()
	const n = 40
	outcomes := make([]map[string]Status, 2)
	for run, workers := range []int{1, 4} {
		d := rabbitDialer(t)
		e := startEngine(t, d, func(c *Config) {
			c.Seed = 77
			c.Stages = map[string]StageConfig{StagePayment: {Workers: workers, Prefetch: 10, DeclineRate: 0.5}}
		})
		ch := testChannel(t, d, fmt.Sprintf("draw-publisher-%d", run))
		for i := range n {
			body, _ := json.Marshal(Order{OrderID: fmt.Sprintf("draw-order-%d", i), ProductID: 1 + i%5, Quantity: 1, UserID: i, CreatedAt: time.Now().UTC()})
			c, err := ch.Publish(context.Background(), broker.Message{Exchange: e.names.Of(ExchangeOrders), RoutingKey: KeyOrderCreated,
				ContentType: "application/json", MessageID: fmt.Sprintf("draw-order-%d:%s", i, KeyOrderCreated), Body: body})
			if err != nil {
				t.Fatal(err)
			}
			<-c.Done()
		}
		outcomes[run] = map[string]Status{}
		for i := range n {
			id := fmt.Sprintf("draw-order-%d", i)
			waitFor(t, 60*time.Second, id+" ended", func() bool {
				rec, ok := e.Order(id)
				return ok && (rec.Status == StatusConfirmed || rec.Status == StatusPaymentFailed)
			})
			rec, _ := e.Order(id)
			outcomes[run][id] = rec.Status
		}
	}
	declined := 0
	for id, s := range outcomes[0] {
		if outcomes[1][id] != s {
			t.Errorf("%s: %s with 1 payment worker, %s with 4", id, s, outcomes[1][id])
		}
		if s == StatusPaymentFailed {
			declined++
		}
	}
	if declined < 8 || declined > 32 {
		t.Errorf("%d of %d declined at decline_rate 0.5", declined, n)
	}
}
