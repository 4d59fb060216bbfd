package amqpbroker

import (
	"context"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// BenchmarkPublishConsume publishes b.N persistent 256-byte messages with up
// to 100 confirmations outstanding (a ring: wait for the oldest before
// sending the 101st) while a consumer on a second connection acks them with
// prefetch 100. It reports confirmed publishes and deliveries per second.
func BenchmarkPublishConsume(b *testing.B) {
	for _, typ := range []string{broker.Classic, broker.Quorum} {
		b.Run(typ, func(b *testing.B) { benchPublishConsume(b, typ) })
	}
}

func benchPublishConsume(b *testing.B, typ string) {
	const window = 100
	d := testDialer(b)
	pc, cc := testConn(b, d), testConn(b, d)
	q := uniqueName(b, "bench")
	declare(b, d, pc, broker.Topology{Queues: []broker.Queue{{Name: q, Type: typ}}})
	pub, cons := testChannel(b, pc), testChannel(b, cc)
	ds, err := cons.Consume(q, "bench", window)
	if err != nil {
		b.Fatal(err)
	}
	consumed := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			select {
			case d, ok := <-ds:
				if !ok {
					consumed <- broker.ErrClosed
					return
				}
				if err := cons.Ack(d.Tag); err != nil {
					consumed <- err
					return
				}
			case <-time.After(30 * time.Second):
				consumed <- context.DeadlineExceeded
				return
			}
		}
		consumed <- nil
	}()

	msg := broker.Message{RoutingKey: q, Persistent: true, ContentType: "application/json", Body: make([]byte, 256)}
	ring := make([]broker.Confirm, 0, window)
	wait := func(cf broker.Confirm) {
		<-cf.Done()
		if !cf.Acked() {
			b.Fatal("publish nacked")
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(ring) == window {
			wait(ring[0])
			ring = ring[1:]
		}
		cf, err := pub.Publish(ctx, msg)
		if err != nil {
			b.Fatal(err)
		}
		ring = append(ring, cf)
	}
	for _, cf := range ring {
		wait(cf)
	}
	if err := <-consumed; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
