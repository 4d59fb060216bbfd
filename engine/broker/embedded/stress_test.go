package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"oms-sim/engine/broker"
)

// TestConcurrentNoLoss hammers the paths where deliveries change hands —
// requeue, Cancel with messages in flight, channel Close, connection loss —
// from many goroutines, and checks every message is acked exactly once.
func TestConcurrentNoLoss(t *testing.T) {
	t.Parallel()
	const (
		publishers = 4
		perPub     = 500
		consumers  = 4
		total      = publishers * perPub
	)
	b, setup := testBroker(t)
	declare(t, setup, oneQueue("orders", broker.Topic, "work", "#"))

	var (
		mu    sync.Mutex
		acked = make(map[string]int)
	)
	allAcked := make(chan struct{})
	record := func(body string) {
		mu.Lock()
		defer mu.Unlock()
		acked[body]++
		if len(acked) == total && acked[body] == 1 {
			close(allAcked)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	for p := range publishers {
		g.Go(func() error {
			for i := 0; i < perPub; {
				n, err := publishSome(ctx, b, p, i, perPub)
				i += n
				if err != nil && !errors.Is(err, broker.ErrClosed) {
					return err
				}
			}
			return nil
		})
	}
	for w := range consumers {
		g.Go(func() error { return churnConsumer(ctx, b, w, allAcked, record) })
	}
	// Drop every connection again and again while all of this is going on.
	g.Go(func() error {
		for range 50 {
			select {
			case <-time.After(time.Millisecond):
				b.KillConnections()
			case <-allAcked:
				return nil
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for body, n := range acked {
		if n != 1 {
			t.Errorf("message %s acked %d times", body, n)
		}
	}
	if len(acked) != total {
		t.Errorf("acked %d distinct messages, want %d", len(acked), total)
	}
	c, err := b.Dial(context.Background(), "check")
	if err != nil {
		t.Fatal(err)
	}
	if got := ready(t, c, "work"); got != 0 {
		t.Errorf("ready %d, want 0", got)
	}
}

// publishSome publishes messages from..to of publisher p on a fresh
// connection and returns how many were confirmed before an error.
func publishSome(ctx context.Context, b *Broker, p, from, to int) (int, error) {
	c, err := b.Dial(ctx, fmt.Sprint("publisher-", p))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		return 0, err
	}
	for i := from; i < to; i++ {
		cf, err := ch.Publish(ctx, broker.Message{Exchange: "orders", RoutingKey: "order.created", Body: fmt.Appendf(nil, "%d-%d", p, i)})
		if err != nil {
			return i - from, err
		}
		if !cf.Acked() {
			return i - from, fmt.Errorf("message %d-%d nacked", p, i)
		}
	}
	return to - from, nil
}

// churnConsumer consumes on its own connection, randomly acking, requeuing,
// cancelling, closing its channel, and redialling after connection loss,
// until every message has been acked.
func churnConsumer(ctx context.Context, b *Broker, id int, allAcked <-chan struct{}, record func(string)) error {
	rng := rand.New(rand.NewPCG(uint64(id), 1))
	for {
		c, err := b.Dial(ctx, fmt.Sprint("consumer-", id))
		if err != nil {
			return err
		}
		err = churnConn(ctx, c, rng, allAcked, record)
		_ = c.Close()
		if !errors.Is(err, broker.ErrClosed) {
			return err // nil when done
		}
	}
}

func churnConn(ctx context.Context, c broker.Conn, rng *rand.Rand, allAcked <-chan struct{}, record func(string)) error {
	for {
		ch, err := c.Channel()
		if err != nil {
			return err
		}
		ds, err := ch.Consume("work", "churn", rng.IntN(4))
		if err != nil {
			return err
		}
		for range 1 + rng.IntN(50) {
			var d broker.Delivery
			select {
			case dd, ok := <-ds:
				if !ok { // connection lost
					return broker.ErrClosed
				}
				d = dd
			case <-allAcked:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
			if rng.IntN(10) == 0 {
				err = ch.Nack(d.Tag, true)
			} else if err = ch.Ack(d.Tag); err == nil {
				record(string(d.Body))
			}
			if err != nil {
				return err
			}
		}
		if rng.IntN(2) == 0 {
			if err := ch.Cancel("churn"); err != nil {
				return err
			}
		}
		_ = ch.Close()
	}
}
