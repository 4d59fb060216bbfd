package amqpbroker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// TestMandatoryReturnsPairWithTheirPublishes publishes, on one channel
// and from two goroutines at once, mandatory messages of which every
// third goes to a routing key no queue is bound to. Each unroutable one
// must complete returned and not acked ("312 NO_ROUTE"), each routable
// one acked and not returned — the return and the ack of the same
// publish come in that order, and the pairing must never slip to a
// neighbour. A message that is not mandatory goes unroutable without a
// return, acked (the broker drops it: what mandatory is for).
func TestMandatoryReturnsPairWithTheirPublishes(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	x, q := uniqueName(t, "returns.x"), uniqueName(t, "returns.q")
	declare(t, d, c, broker.Topology{
		Exchanges: []broker.Exchange{{Name: x, Kind: broker.Topic}},
		Queues:    []broker.Queue{{Name: q}},
		Bindings:  []broker.Binding{{Exchange: x, Queue: q, Key: "bound"}},
	})
	ch := testChannel(t, c)

	type sent struct {
		cf         broker.Confirm
		unroutable bool
	}
	var (
		mu   sync.Mutex
		all  []sent
		wg   sync.WaitGroup
		errs = make(chan error, 2)
	)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				unroutable := i%3 == g
				key := "bound"
				if unroutable {
					key = "nobody"
				}
				cf, err := ch.Publish(context.Background(), broker.Message{
					Exchange: x, RoutingKey: key, Mandatory: true,
					MessageID: fmt.Sprintf("m-%d-%d", g, i), Body: []byte("x"),
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, sent{cf, unroutable})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantReturned := 0
	for i, s := range all {
		select {
		case <-s.cf.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("confirm %d pending after 10s", i)
		}
		reply, returned := s.cf.Returned()
		if s.unroutable {
			wantReturned++
			if !returned || s.cf.Acked() || !strings.Contains(reply, "NO_ROUTE") {
				t.Errorf("unroutable publish %d: returned %v (%q), acked %v; want returned NO_ROUTE, not acked", i, returned, reply, s.cf.Acked())
			}
		} else if returned || !s.cf.Acked() {
			t.Errorf("routable publish %d: returned %v (%q), acked %v; want acked, not returned", i, returned, reply, s.cf.Acked())
		}
	}
	if got := ch.returns.returned.Load(); got != int64(wantReturned) {
		t.Errorf("broker returned %d messages, want %d", got, wantReturned)
	}

	cf, err := ch.Publish(context.Background(), broker.Message{Exchange: x, RoutingKey: "nobody", Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	<-cf.Done()
	if _, returned := cf.Returned(); returned || !cf.Acked() {
		t.Errorf("unroutable publish without mandatory: returned %v, acked %v; want acked (dropped by the broker), not returned", returned, cf.Acked())
	}
}
