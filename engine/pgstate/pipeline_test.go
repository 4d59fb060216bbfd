package pgstate_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/pgstate"
	"oms-sim/internal/brokertest"
	"oms-sim/internal/pgtest"
)

// Pipelines of several engines — several processes — on one RabbitMQ and
// one database, in one namespace.

// newEngine builds an engine of the pipeline in ns on d, with state st
// and roles (nil: all), and starts it. With owner it deletes the
// namespace's topology at cleanup (once per test: the other engines
// share it); the engine is closed at cleanup either way (Close is
// idempotent, so a test may close it earlier).
func newEngine(t *testing.T, d broker.Dialer, ns, process string, st engine.State, roles []string, owner bool) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{
		Dialer: d, Namespace: ns, Process: ns + "-" + process, Seed: 7, Roles: roles, State: st,
		RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond},
		Catalog:     engine.Catalog{Products: 5, Stock: 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	if owner {
		brokertest.Started(t, d, e.Start, e.Close, func() broker.Topology {
			return e.Routes().Topology(e.Names(), e.Config().QueueType, e.Config().RetryDelays)
		})
		return e
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// openStore opens another store on ns: what another process, or a
// restarted one, opens.
func openStore(t *testing.T, ns string) *pgstate.Store {
	t.Helper()
	s, err := pgstate.Open(bg, pgtest.URL(), pgstate.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// waitInboxHits waits until the payment, inventory and email stages —
// of the engines given, in that order — have each answered one
// duplicate from the inbox.
func waitInboxHits(t *testing.T, what string, payment, inventory, email *engine.Engine) {
	t.Helper()
	brokertest.WaitFor(t, 15*time.Second, what, func() bool {
		return stageOf(t, payment, engine.StagePayment).InboxHits == 1 &&
			stageOf(t, inventory, engine.StageInventory).InboxHits == 1 &&
			stageOf(t, email, engine.StageEmail).InboxHits == 1
	})
}

func stageOf(t *testing.T, e *engine.Engine, name string) engine.StageSnapshot {
	t.Helper()
	s, ok := e.Snapshot().Stage(name)
	if !ok {
		t.Fatalf("no stage %s", name)
	}
	return s
}

// TestRedeliveryToAnotherProcessAndAfterRestart: a message handled by one
// process and delivered again — to another process, and after both
// restarted — is answered from the inbox: no second charge, no second
// stock take, the same outcome sent on.
func TestRedeliveryToAnotherProcessAndAfterRestart(t *testing.T) {
	d := brokertest.Dialer(t)
	ns := pgtest.Namespace(t)
	storeA := pgtest.Open(t, ns)
	a := newEngine(t, d, ns, "a", storeA, nil, true)

	o, err := a.PlaceOrder(bg, engine.OrderRequest{ProductID: 1, Quantity: 2, UserID: 1})
	if err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 15*time.Second, "the order confirmed", func() bool {
		r, ok := a.Order(o.OrderID)
		return ok && r.Status == engine.StatusConfirmed
	})

	// Process b runs payment only; a stops consuming payment, so the
	// duplicate goes to b, which never saw the order.
	if err := a.PauseStage("test", engine.StagePayment); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 10*time.Second, "a's payment workers to stop", func() bool {
		return stageOf(t, a, engine.StagePayment).Running == 0
	})
	b := newEngine(t, d, ns, "b", openStore(t, ns), []string{engine.StagePayment}, false)
	if err := a.PublishOrder(bg, o); err != nil { // the same message id: a duplicate
		t.Fatal(err)
	}
	waitInboxHits(t, "every stage to answer the duplicate from the inbox", b, a, a)
	checkOnce(t, storeA, o.OrderID)
	if s := a.Snapshot().State; s.Kind != engine.StatePostgres || s.InboxHits != 2 {
		t.Errorf("a's state status %+v: want postgres with 2 inbox hits (inventory, email)", s)
	}
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `oms_stage_inbox_hits_total{stage="inventory"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}

	// Both processes stop; a new one starts on the same database.
	b.Close()
	a.Close()
	c := newEngine(t, d, ns, "c", openStore(t, ns), nil, false)
	stock := c.Inventory()
	if len(stock) != 5 || stock[0].Stock != 98 {
		t.Fatalf("stock after the restart: %+v; want product 1 at 98 (100 less the order's 2)", stock)
	}
	if err := c.PublishOrder(bg, o); err != nil {
		t.Fatal(err)
	}
	waitInboxHits(t, "the restarted pipeline to answer the duplicate from the inbox", c, c, c)
	checkOnce(t, storeA, o.OrderID)
	if st := c.Inventory(); st[0].Stock != 98 {
		t.Errorf("stock after the duplicate: %d, want 98", st[0].Stock)
	}
}

// checkOnce checks that the order was charged once and took stock once,
// and that the ledger balances.
func checkOnce(t *testing.T, s *pgstate.Store, id string) {
	t.Helper()
	for _, table := range []string{"charges", "stock_takes"} {
		if n := count(t, s, `SELECT count(*) FROM `+table+` WHERE order_id = $1`, id); n != 1 {
			t.Errorf("%d rows of the order in %s, want 1", n, table)
		}
	}
	for stage, key := range map[string]string{
		engine.StagePayment: engine.KeyPaymentSuccess, engine.StageInventory: engine.KeyInventoryUpdated, engine.StageEmail: engine.KeyEmailSent,
	} {
		if n := count(t, s, `SELECT count(*) FROM inbox WHERE order_id = $1 AND stage = $2 AND routing_key = $3`, id, stage, key); n != 1 {
			t.Errorf("%d inbox rows of %s with outcome %s, want 1", n, stage, key)
		}
	}
	l, err := s.Ledger(bg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.DoubleCharged) > 0 || len(l.Unbalanced()) > 0 {
		t.Errorf("ledger: double charges %v, unbalanced stock %+v", l.DoubleCharged, l.Unbalanced())
	}
}

// TestTwoInventoriesShareTheStock: two processes running inventory take
// from one stock: exactly what there is is sold, the rest refunded, and
// the stock ends at zero, not below.
func TestTwoInventoriesShareTheStock(t *testing.T) {
	d := brokertest.Dialer(t)
	ns := pgtest.Namespace(t)
	store := pgtest.Open(t, ns)
	a := newEngine(t, d, ns, "a", store, nil, true)
	b := newEngine(t, d, ns, "b", openStore(t, ns), []string{engine.StagePayment, engine.StageInventory}, false)

	const orders, product = 130, 3 // 100 in stock
	for i := range orders {
		if _, err := a.PlaceOrder(bg, engine.OrderRequest{ProductID: product, Quantity: 1, UserID: i}); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.WaitFor(t, 30*time.Second, "every order taken or refunded", func() bool {
		return count(t, store, `SELECT count(*) FROM stock_takes`)+count(t, store, `SELECT count(*) FROM refunds`) == orders
	})
	if n := count(t, store, `SELECT count(*) FROM stock_takes`); n != 100 {
		t.Errorf("%d stock takes, want 100 (the stock)", n)
	}
	if n := count(t, store, `SELECT count(*) FROM charges`); n != orders {
		t.Errorf("%d charges, want %d", n, orders)
	}
	stock, err := store.Stock(bg)
	if err != nil {
		t.Fatal(err)
	}
	if stock[product-1].Stock != 0 {
		t.Errorf("stock of product %d: %d, want 0", product, stock[product-1].Stock)
	}
	l, err := store.Ledger(bg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.UnjustifiedRefunds) > 0 || len(l.UnchargedRefunds) > 0 || len(l.Unbalanced()) > 0 {
		t.Errorf("ledger: unjustified refunds %v, uncharged %v, unbalanced %+v", l.UnjustifiedRefunds, l.UnchargedRefunds, l.Unbalanced())
	}
	// Both processes read the same stock.
	if sa, sb := a.Inventory(), b.Inventory(); fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Errorf("the processes disagree on the stock:\n%v\n%v", sa, sb)
	}
	brokertest.WaitFor(t, 5*time.Second, "b's snapshot to read the stock", func() bool {
		s := b.Snapshot().State
		return s.Products == 5 && s.OutOfStock == 1 && s.Units == 400
	})
}
