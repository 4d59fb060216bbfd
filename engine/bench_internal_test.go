package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/embedded"
)

var benchBody = []byte(`{"order_id":"01a2105d-dcd2-79e4-98a6-e4103c399f3e","product_id":12,"quantity":2,"user_id":100,"amount_cents":3998,"created_at":"2026-11-25T01:41:56.562123456Z"}`)

func BenchmarkDecodeOrder(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeOrder(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	o := Order{OrderID: "x", ProductID: 1, Quantity: 2, UserID: 3, AmountCents: 4000, CreatedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := renderEmail(KeyInventoryUpdated, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStageChain runs deliveries of order.created through the
// payment stage's chain (dedupe, recover, decode, events, service time 0,
// errors, the charge handler, the outgoing message), without a broker:
// the hot path's allocations per message.
func BenchmarkStageChain(b *testing.B) {
	br := embedded.New()
	defer br.Close()
	e, err := New(Config{Dialer: br, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	s := e.stages[StagePayment]
	w := newWorker(s, 1, 1)
	defer w.stop()
	o := Order{OrderID: "01a2105d-dcd2-79e4-98a6-e4103c399f3e", ProductID: 12, Quantity: 2, UserID: 100, CreatedAt: time.Now()}
	body := o.AppendJSON(nil)
	// Distinct message ids, more than the dedupe set holds, so none is a
	// repeat when it comes round again.
	ids := make([]string, seenPerStage+1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s:%d", o.OrderID, i)
	}
	headers := map[string]any{HeaderAttempt: int64(1)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := broker.Delivery{Message: broker.Message{RoutingKey: KeyOrderCreated, MessageID: ids[i%len(ids)], CorrelationID: o.OrderID, Body: body, Headers: headers}}
		i++
		in := &w.in
		*in = inbound{d: d, worker: w.name, rng: w.rng, pcg: w.pcg, cfg: s.knobs(), key: KeyOrderCreated, attempt: 1,
			arr: arrival{at: time.Now(), wait: -1}}
		if _, err := s.chain(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
