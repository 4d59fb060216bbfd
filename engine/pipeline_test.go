package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/embedded"
)

// placeOrder places an order from a JSON request body, as POST
// /api/orders does (through PlaceOrder: the HTTP API and its tests are in
// engine/httpapi), and returns its id.
func placeOrder(t testing.TB, e *Engine, body string) string {
	t.Helper()
	req, err := DecodeOrderRequest([]byte(body), e.KnownProduct)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, err := e.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatalf("PlaceOrder(%s): %v", body, err)
	}
	return o.OrderID
}

const seedRequest = `{"product_id": 1, "quantity": 2, "user_id": 100}`

func eventTypes(r OrderRecord) map[string]string {
	m := map[string]string{}
	for _, ev := range r.Events {
		m[ev.Type] = ev.Stage
	}
	return m
}

func TestPipelineOutcomes(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			t.Run("confirmed", func(t *testing.T) {
				t.Parallel()
				e := startEngine(t, b.dial(t), nil)
				rec := waitStatus(t, e, placeOrder(t, e, seedRequest), StatusConfirmed)
				got := eventTypes(rec)
				for ev, stage := range map[string]string{EventAccepted: "api", EventPaid: StagePayment, EventStockTaken: StageInventory, EventConfirmed: StageEmail} {
					if got[ev] != stage {
						t.Errorf("event %s from stage %q, want %q (events %v)", ev, got[ev], stage, got)
					}
				}
				// In time order, though the API logs accepted only after
				// the broker's confirm, when payment may have started.
				evs := rec.Events
				var seq []string
				for _, ev := range evs {
					seq = append(seq, ev.Type)
				}
				want := []string{EventAccepted, EventPaymentStarted, EventPaid, EventInventoryStarted, EventStockTaken, EventEmailStarted, EventConfirmed}
				if !slices.Equal(seq, want) {
					t.Errorf("timeline %v, want %v", seq, want)
				}
				for _, ev := range evs[1:] {
					if ev.Worker == "" || !strings.HasPrefix(ev.Worker, ev.Stage+"-") {
						t.Errorf("event %s by worker %q of stage %q", ev.Type, ev.Worker, ev.Stage)
					}
				}
				if d := evs[1].Detail; !strings.HasPrefix(d, KeyOrderCreated+" after ") || !strings.HasSuffix(d, " in the queue") {
					t.Errorf("payment.started detail %q, want the routing key and the queue wait", d)
				}
				if rec.AmountCents <= 0 || rec.Latency <= 0 {
					t.Errorf("amount %d latency %v, want both positive", rec.AmountCents, rec.Latency)
				}
			})
			t.Run("declined", func(t *testing.T) {
				t.Parallel()
				e := startEngine(t, b.dial(t), func(c *Config) {
					c.Stages = map[string]StageConfig{StagePayment: {Workers: 1, Prefetch: 10, DeclineRate: 1}}
				})
				rec := waitStatus(t, e, placeOrder(t, e, seedRequest), StatusPaymentFailed)
				waitFor(t, 5*time.Second, "declined notice email", func() bool {
					rec, _ = e.Order(rec.OrderID)
					return eventTypes(rec)[EventEmailSent] == StageEmail
				})
				if _, ok := eventTypes(rec)[EventStockTaken]; ok {
					t.Errorf("declined order took stock: %v", eventTypes(rec))
				}
			})
			t.Run("out of stock is refunded", func(t *testing.T) {
				t.Parallel()
				e := startEngine(t, b.dial(t), func(c *Config) { c.Catalog = Catalog{Products: 3, Stock: 1} })
				rec := waitStatus(t, e, placeOrder(t, e, seedRequest), StatusRefunded)
				got := eventTypes(rec)
				if got[EventOutOfStock] != StageInventory || got[EventRefunded] != StagePayment {
					t.Errorf("events %v, want out_of_stock from inventory and refunded from payment", got)
				}
				if s := e.Inventory()[0].Stock; s != 1 {
					t.Errorf("stock of product 1 = %d after a refused order, want 1 (unchanged)", s)
				}
			})
			t.Run("undecodable is dead-lettered with reason", func(t *testing.T) {
				t.Parallel()
				d := b.dial(t)
				e := startEngine(t, d, nil)
				ch := testChannel(t, d, "test-publisher")
				c, err := ch.Publish(context.Background(), broker.Message{
					Exchange: e.names.Of(ExchangeOrders), RoutingKey: KeyOrderCreated,
					ContentType: "application/json", MessageID: "garbage-1", Body: []byte("{not json"),
				})
				if err != nil {
					t.Fatal(err)
				}
				<-c.Done()
				deliveries, err := ch.Consume(e.names.Of(QueueDead), "test-dead", 1)
				if err != nil {
					t.Fatal(err)
				}
				select {
				case m := <-deliveries:
					reason, _ := m.Headers[HeaderDeadReason].(string)
					if !strings.Contains(reason, "undecodable") || m.Headers[HeaderDeadStage] != StagePayment {
						t.Errorf("dead letter headers %v, want an undecodable reason from payment", m.Headers)
					}
					if string(m.Body) != "{not json" {
						t.Errorf("dead letter body %q, want the original", m.Body)
					}
					if err := ch.Ack(m.Tag); err != nil {
						t.Fatal(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no message reached the dead-letter queue")
				}
			})
			t.Run("retries then dead-letters", func(t *testing.T) {
				t.Parallel()
				e := startEngine(t, b.dial(t), func(c *Config) {
					c.MaxAttempts = 3
					c.Stages = map[string]StageConfig{StageInventory: {Workers: 1, Prefetch: 10, ErrorRate: 1}}
				})
				rec := waitStatus(t, e, placeOrder(t, e, seedRequest), StatusDeadLettered)
				retries := 0
				for _, ev := range rec.Events {
					if ev.Type == EventRetried {
						retries++
					}
				}
				if retries != 2 {
					t.Errorf("%d retried events, want 2 before the third attempt gives up", retries)
				}
				var attempts []string
				for _, ev := range rec.Events {
					if ev.Type == EventInventoryStarted {
						attempts = append(attempts, ev.Detail[strings.LastIndexByte(ev.Detail, ' ')+1:])
					}
				}
				if want := []string{"queue", "2", "3"}; !slices.Equal(attempts, want) {
					t.Errorf("inventory.started details end in %q, want %q (the attempt, from the second on)", attempts, want)
				}
				if !strings.Contains(rec.Events[len(rec.Events)-1].Detail, "gave up after 3 attempts") {
					t.Errorf("last event %+v, want the reason", rec.Events[len(rec.Events)-1])
				}
			})
		})
	}
}

// placeLoad places orders at about rate per second until ctx ends and
// returns how many were accepted. Refusals (503) are not orders.
func placeLoad(ctx context.Context, e *Engine, rate int, accepted *atomic.Int64) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := e.PlaceOrder(pctx, OrderRequest{ProductID: 1 + i%50, Quantity: 1, UserID: i}); err == nil {
				accepted.Add(1)
			}
		}()
	}
}

// runLoad runs placeLoad at rate in the background; stop ends it and
// waits for its orders in flight.
func runLoad(e *Engine, rate int) (accepted *atomic.Int64, stop func()) {
	accepted = new(atomic.Int64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		placeLoad(ctx, e, rate, accepted)
	}()
	return accepted, func() {
		cancel()
		<-done
	}
}

func TestResizeLosesNothing(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := startEngine(t, b.dial(t), func(c *Config) {
				for _, s := range StageNames {
					c.Stages = map[string]StageConfig{}
					_ = s
				}
				c.Stages[StagePayment] = StageConfig{Workers: 2, Prefetch: 20, ServiceTime: Constant(time.Millisecond)}
				c.Stages[StageEmail] = StageConfig{Workers: 2, Prefetch: 20, ServiceTime: Constant(time.Millisecond)}
			})
			accepted, stopLoad := runLoad(e, 400)
			ptr := func(n int) *int { return &n }
			steps := []StagePatch{
				{Workers: ptr(8)}, {Workers: ptr(1)}, {Prefetch: ptr(5)}, {Workers: ptr(4)},
				{Workers: ptr(0)}, {Workers: ptr(3), Prefetch: ptr(50)}, {Workers: ptr(1)},
			}
			for i, p := range steps {
				time.Sleep(250 * time.Millisecond)
				stage := StageNames[i%2*2] // payment and email alternately
				if _, err := e.UpdateStage("test", stage, p); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(250 * time.Millisecond)
			// A busy machine places fewer than 400/s: go on until there
			// are enough orders to say something (conditions, not time).
			for deadline := time.Now().Add(time.Minute); accepted.Load() < 200 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			stopLoad()
			for _, s := range []string{StagePayment, StageEmail} {
				if _, err := e.UpdateStage("test", s, StagePatch{Workers: ptr(2)}); err != nil {
					t.Fatal(err)
				}
			}
			c := waitSettled(t, e, 30*time.Second)
			if c.Accepted != accepted.Load() || c.Accepted < 200 { // the load goes on until 200 were accepted (or a minute passed)
				t.Fatalf("engine counted %d accepted, the load placed %d (want ≥ 200)", c.Accepted, accepted.Load())
			}
			if c.Confirmed != c.Accepted || c.Duplicated != 0 {
				t.Fatalf("counts %+v: want every accepted order confirmed exactly once", c)
			}
		})
	}
}

// layoutConns lists the connection names an engine with every role and
// the default worker count opens in layout, besides the set-up one.
func layoutConns(process, layout string) []string {
	var names []string
	switch layout {
	case ConnShared:
		return []string{process + "/shared"}
	case ConnPerWorker:
		names = append(names, process+"/api", process+"/monitor")
		for _, s := range StageNames {
			for i := 1; i <= DefaultWorkers; i++ {
				names = append(names, fmt.Sprintf("%s/%s/%s-%d", process, s, s, i))
			}
		}
	default:
		names = append(names, process+"/api", process+"/monitor")
		for _, s := range StageNames {
			names = append(names, process+"/"+s)
		}
	}
	slices.Sort(names)
	return names
}

// connNames lists the names of the process's connections on RabbitMQ.
func connNames(t testing.TB, process string) []string {
	var names []string
	for _, c := range listConnections(t, process+"/") {
		names = append(names, c.name)
	}
	slices.Sort(names)
	return names
}

// TestConnectionLossRecovers closes every connection of a loaded engine
// from the broker side, in each connection layout: the engine reconnects
// each of them, and every accepted order is confirmed exactly once.
func TestConnectionLossRecovers(t *testing.T) {
	for _, layout := range ConnLayouts {
		for _, b := range brokers {
			t.Run(layout+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				d := b.dial(t)
				e := startEngine(t, d, func(c *Config) { c.Connections = layout })
				want := layoutConns(e.cfg.Process, layout)
				if n := int(e.expected.Load()); n != len(want) {
					t.Fatalf("engine supervises %d connections, want %d (%v)", n, len(want), want)
				}
				_, rabbit := d.(*embedded.Broker)
				rabbit = !rabbit
				if rabbit {
					if got := connNames(t, e.cfg.Process); !slices.Equal(got, want) {
						t.Fatalf("connections on RabbitMQ %v, want %v", got, want)
					}
				}
				accepted, stopLoad := runLoad(e, 300)
				// Orders in flight when the connections go, and orders
				// accepted after they are back: counts, not durations, so
				// a slow machine only takes longer.
				waitFor(t, 20*time.Second, "orders before the outage", func() bool {
					return accepted.Load() >= 100 && e.Counts().Confirmed >= 20
				})
				if eb, ok := d.(*embedded.Broker); ok {
					eb.KillConnections()
				} else if n := closeConnections(t, e.cfg.Process+"/"); n != len(want) {
					t.Fatalf("closed %d connections, want the engine's %d", n, len(want))
				}
				waitFor(t, 20*time.Second, "reconnection", func() bool {
					return e.reconnects.Load() >= int64(len(want)) && e.Connected()
				})
				after := accepted.Load()
				waitFor(t, 20*time.Second, "orders after the reconnection", func() bool { return accepted.Load() >= after+100 })
				stopLoad()
				c := waitSettled(t, e, 30*time.Second)
				if c.Accepted != accepted.Load() || c.Confirmed != c.Accepted || c.Orphaned != 0 || c.Duplicated != 0 {
					t.Fatalf("counts %+v, load accepted %d: want every accepted order confirmed once", c, accepted.Load())
				}
				if rabbit {
					// The same connections again, none left over.
					if got := connNames(t, e.cfg.Process); !slices.Equal(got, want) {
						t.Fatalf("connections after recovery %v, want %v", got, want)
					}
				}
			})
		}
	}
}

func TestSeedConsumerContract(t *testing.T) {
	d := rabbitDialer(t)
	e := startEngine(t, d, nil)
	// A consumer that knows only the seed's contract: its own queue bound
	// to the orders exchange with order.created, reading three fields.
	conn, err := d.Dial(context.Background(), "seed-consumer")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	q := e.names.Of("seed.consumer")
	if err := conn.Declare(context.Background(), broker.Topology{
		Queues:   []broker.Queue{{Name: q}},
		Bindings: []broker.Binding{{Exchange: e.names.Of(ExchangeOrders), Queue: q, Key: KeyOrderCreated}},
	}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Delete(q) }() // before conn.Close above
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q, "seed", 1)
	if err != nil {
		t.Fatal(err)
	}
	placeOrder(t, e, seedRequest)
	select {
	case m := <-deliveries:
		var body struct {
			ProductID *int `json:"product_id"`
			Quantity  *int `json:"quantity"`
			UserID    *int `json:"user_id"`
		}
		if err := json.NewDecoder(bytes.NewReader(m.Body)).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if body.ProductID == nil || *body.ProductID != 1 || body.Quantity == nil || *body.Quantity != 2 || body.UserID == nil || *body.UserID != 100 {
			t.Fatalf("seed consumer got %s, want product_id 1, quantity 2, user_id 100", m.Body)
		}
		if m.ContentType != "application/json" || m.RoutingKey != KeyOrderCreated {
			t.Errorf("content type %q key %q", m.ContentType, m.RoutingKey)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the seed consumer received nothing")
	}
}

// TestRedeliveryIsIdempotent delivers the same order.created twice (as a
// redelivery after a lost ack would): one charge, one stock take, one
// confirmation, and the duplicate is answered from memory.
func TestRedeliveryIsIdempotent(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			d := b.dial(t)
			e := startEngine(t, d, func(c *Config) { c.Catalog = Catalog{Products: 2, Stock: 10} })
			ch := testChannel(t, d, "test-redeliver")
			o := Order{OrderID: "dup-1", ProductID: 1, Quantity: 3, UserID: 5, CreatedAt: time.Now()}
			msg := e.msgs.build(o, KeyOrderCreated)
			for range 2 {
				c, err := ch.Publish(context.Background(), msg)
				if err != nil {
					t.Fatal(err)
				}
				<-c.Done()
			}
			waitStatus(t, e, "dup-1", StatusConfirmed)
			waitFor(t, 5*time.Second, "the duplicate to be answered", func() bool {
				return e.Snapshot().Stages[0].Redelivered >= 1
			})
			time.Sleep(200 * time.Millisecond) // let any second outcome show
			rec, _ := e.Order("dup-1")
			count := map[string]int{}
			for _, ev := range rec.Events {
				count[ev.Type]++
			}
			if count[EventPaid] != 1 || count[EventStockTaken] != 1 || count[EventConfirmed] != 1 {
				t.Errorf("events %v: want one charge, one stock take, one confirmation", count)
			}
			if s := e.Inventory()[0].Stock; s != 7 {
				t.Errorf("stock %d, want 10 - 3 = 7 (taken once)", s)
			}
			if c := e.Counts(); c.Duplicated != 0 {
				t.Errorf("counts %+v", c)
			}
		})
	}
}
