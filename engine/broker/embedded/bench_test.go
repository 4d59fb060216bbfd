package embedded

import (
	"context"
	"testing"

	"oms-sim/engine/broker"
)

// BenchmarkPublishConsume measures the full path of one message: publish
// through a topic exchange, delivery to a consumer with prefetch 50, ack.
func BenchmarkPublishConsume(b *testing.B) {
	_, c := testBroker(b)
	declare(b, c, oneQueue("orders", broker.Topic, "work", "order.*"))
	pub, sub := openChannel(b, c), openChannel(b, c)
	ds := consume(b, sub, "work", "bench", 50)
	msg := broker.Message{
		Exchange: "orders", RoutingKey: "order.created", ContentType: "application/json",
		Headers: map[string]any{"x-attempt": int64(1)},
		Body:    []byte(`{"order_id":"0196","product_id":1,"quantity":2,"user_id":100,"amount_cents":3998}`),
	}
	done := make(chan error, 1)
	b.ResetTimer()
	go func() {
		for range b.N {
			d, ok := <-ds
			if !ok {
				done <- broker.ErrClosed
				return
			}
			if err := sub.Ack(d.Tag); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	ctx := context.Background()
	for range b.N {
		if _, err := pub.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
