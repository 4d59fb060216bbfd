package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// shippingRoutes is the standard table with a fourth stage, as a
// newcomer would add one: one entry in the table, and its handler (in a
// file of its own in the engine; here beside the test).
func shippingRoutes() Routes {
	return append(StandardRoutes(), Route{Stage: "shipping", Key: KeyEmailSent, New: newShip})
}

// newShip is the shipping stage's handler: it ships a confirmed order
// once its email is out, and publishes shipping.done.
func newShip(env Env) Handler {
	return func(_ context.Context, o Order) (Outcome, error) {
		return Next(o, "shipping.done", "shipped", fmt.Sprintf("parcel of %d × product %d to user %d", o.Quantity, o.ProductID, o.UserID)), nil
	}
}

// TestExtraStage builds a pipeline with a fourth stage from the route
// table and one handler, on the embedded broker: its queue is declared
// and bound from the table, its workers take every order after email,
// and the snapshot, the started events and the watched queues show it.
func TestExtraStage(t *testing.T) {
	t.Parallel()
	b := brokers[1]
	if b.name != "embedded" {
		t.Fatalf("brokers[1] is %s, want embedded", b.name)
	}
	e := startEngine(t, b.dial(t), func(c *Config) { c.Routes = shippingRoutes() })
	if got, want := e.StageNames(), []string{StagePayment, StageInventory, StageEmail, "shipping"}; !slices.Equal(got, want) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	topo := e.topology()
	if !slices.Contains(topo.Bindings, broker.Binding{Exchange: e.names.Of(ExchangeOrders), Queue: e.names.Queue("shipping"), Key: KeyEmailSent}) {
		t.Errorf("topology has no binding of %s to %s: %+v", KeyEmailSent, e.names.Queue("shipping"), topo.Bindings)
	}

	const n = 5
	var ids []string
	for range n {
		o, err := e.PlaceOrder(context.Background(), OrderRequest{ProductID: 1, Quantity: 2, UserID: 100})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.OrderID)
	}
	waitFor(t, 15*time.Second, "every order shipped", func() bool {
		s, _ := e.Snapshot().Stage("shipping")
		return s.OK == n
	})
	for _, id := range ids {
		rec := waitStatus(t, e, id, StatusConfirmed)
		got := eventTypes(rec)
		if got[StartedEvent("shipping")] != "shipping" || got["shipped"] != "shipping" {
			t.Errorf("order %s events %v, want shipping.started and shipped from shipping", id, got)
		}
	}
	snap := e.Snapshot()
	if len(snap.Stages) != 4 || len(snap.Queues) != 5 {
		t.Fatalf("snapshot has %d stages and %d queues, want 4 and 5 (four work queues and the dead letters)", len(snap.Stages), len(snap.Queues))
	}
	ship := snap.Stages[3]
	if ship.Name != "shipping" || ship.Handled != n || ship.Queue.Queue != StageQueue("shipping") {
		t.Errorf("fourth stage %s handled %d with queue %q, want shipping, %d, %s", ship.Name, ship.Handled, ship.Queue.Queue, n, StageQueue("shipping"))
	}
	if snap.Queues[4].Queue != QueueDead {
		t.Errorf("last watched queue %q, want %s", snap.Queues[4].Queue, QueueDead)
	}
	if _, err := e.UpdateStage("test", "shipping", StagePatch{Workers: ptr(3)}); err != nil {
		t.Errorf("steering the fourth stage: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPanicIsDeadLettered makes the inventory handler panic on every
// order of quantity 2: each such order is dead-lettered with the panic
// as its reason and counted, the others go through, and the process
// (this test binary) survives.
func TestPanicIsDeadLettered(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			routes := StandardRoutes()
			for i, rt := range routes {
				if rt.Stage == StageInventory {
					take := rt.New
					routes[i].New = func(env Env) Handler {
						h := take(env)
						return func(ctx context.Context, o Order) (Outcome, error) {
							if o.Quantity == 2 {
								panic("boom: a bug in a domain step")
							}
							return h(ctx, o)
						}
					}
				}
			}
			d := b.dial(t)
			e := startEngine(t, d, func(c *Config) { c.Routes = routes })
			place := func(qty int) string {
				o, err := e.PlaceOrder(context.Background(), OrderRequest{ProductID: 1, Quantity: qty, UserID: 7})
				if err != nil {
					t.Fatal(err)
				}
				return o.OrderID
			}
			bad := []string{place(2), place(2), place(2)}
			good := place(1)
			for _, id := range bad {
				rec := waitStatus(t, e, id, StatusDeadLettered)
				var reason string
				for _, ev := range rec.Events {
					if ev.Type == EventDeadLettered {
						reason = ev.Detail
					}
				}
				if !strings.Contains(reason, "panic: boom") {
					t.Errorf("order %s dead-lettered with %q, want the panic as the reason", id, reason)
				}
			}
			waitStatus(t, e, good, StatusConfirmed)
			if c := waitSettled(t, e, 10*time.Second); c.DeadLettered != 3 || c.Confirmed != 1 {
				t.Errorf("counts %+v, want 3 dead-lettered and 1 confirmed", c)
			}
			if inv, _ := e.Snapshot().Stage(StageInventory); inv.Dead != 3 || inv.Retried != 0 {
				t.Errorf("inventory dead %d retried %d, want 3 and 0 (a panic is not retried)", inv.Dead, inv.Retried)
			}
			// The dead letters are in oms.dead with the panic as their reason.
			ch := testChannel(t, d, "test-dead")
			deliveries, err := ch.Consume(e.names.Of(QueueDead), "test-dead", 10)
			if err != nil {
				t.Fatal(err)
			}
			for range bad {
				select {
				case m := <-deliveries:
					reason, _ := m.Headers[HeaderDeadReason].(string)
					if !strings.HasPrefix(reason, "panic: boom") || m.Headers[HeaderDeadStage] != StageInventory {
						t.Errorf("dead letter headers %v, want a panic reason from inventory", m.Headers)
					}
					if err := ch.Ack(m.Tag); err != nil {
						t.Fatal(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a panicked order did not reach the dead-letter queue")
				}
			}
		})
	}
}

// TestRoutesDerive checks what the standard table derives: the stages,
// each one's bound keys, the watched queues and the started events.
func TestRoutesDerive(t *testing.T) {
	r := StandardRoutes()
	if got := r.Stages(); !slices.Equal(got, []string{StagePayment, StageInventory, StageEmail}) {
		t.Errorf("stages %v", got)
	}
	for stage, want := range map[string][]string{
		StagePayment:   {KeyOrderCreated, KeyInventoryFailed},
		StageInventory: {KeyPaymentSuccess},
		StageEmail:     {KeyPaymentFailed, KeyInventoryUpdated, KeyPaymentRefunded},
	} {
		if got := r.Keys(stage); !slices.Equal(got, want) {
			t.Errorf("%s keys %v, want %v", stage, got, want)
		}
	}
	if got, want := r.Queues(), []string{"oms.payment", "oms.inventory", "oms.email", QueueDead}; !slices.Equal(got, want) {
		t.Errorf("queues %v, want %v", got, want)
	}
	for stage, want := range map[string]string{StagePayment: EventPaymentStarted, StageInventory: EventInventoryStarted, StageEmail: EventEmailStarted} {
		if got := StartedEvent(stage); got != want {
			t.Errorf("StartedEvent(%s) = %q, want %q", stage, got, want)
		}
	}
	if err := r.Validate(); err != nil {
		t.Errorf("standard table: %v", err)
	}
	bad := append(StandardRoutes(), Route{Stage: "shipping", Key: KeyOrderCreated, New: newShip}, Route{Stage: "api", Key: "x", New: newShip}, Route{Stage: "y"})
	err := bad.Validate()
	for _, want := range []string{`key "order.created" is routed to payment already`, `stage "api"`, "needs a stage, a key and a handler"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of a bad table = %v, want it to say %q", err, want)
		}
	}
}
