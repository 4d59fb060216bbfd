package pgstate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/pgstate"
	"oms-sim/internal/pgtest"
)

var bg = context.Background()

func catalog(products, stock int, seed uint64) engine.Catalog {
	return engine.Catalog{Products: products, Stock: stock, PriceMin: 500, PriceMax: 9900, Seed: seed}
}

// prepared opens a store in a fresh namespace and prepares catalog c.
func prepared(t *testing.T, c engine.Catalog) (*pgstate.Store, string) {
	t.Helper()
	ns := pgtest.Namespace(t)
	s := pgtest.Open(t, ns)
	if err := s.Prepare(bg, c); err != nil {
		t.Fatal(err)
	}
	return s, ns
}

func count(t *testing.T, s *pgstate.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(bg, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestSchemaName(t *testing.T) {
	t.Parallel()
	tests := []struct{ ns, want string }{
		{"", "oms"},
		{"bench", "oms_bench"},
		{"a_b1", "oms_a_b1"},
	}
	for _, tt := range tests {
		if got := pgstate.SchemaName(tt.ns); got != tt.want {
			t.Errorf("SchemaName(%q) = %q, want %q", tt.ns, got, tt.want)
		}
	}
	// Names that had to change keep apart: "a-b" and "a.b" both become
	// oms_a_b, so each gets its own hash.
	a, b := pgstate.SchemaName("a-b"), pgstate.SchemaName("a.b")
	if a == b || !strings.HasPrefix(a, "oms_a_b_") || !strings.HasPrefix(b, "oms_a_b_") {
		t.Errorf(`SchemaName("a-b") = %q, SchemaName("a.b") = %q: want distinct oms_a_b_<hash>`, a, b)
	}
	long := pgstate.SchemaName(strings.Repeat("Ab-", 40))
	if len(long) > 63 || strings.ContainsAny(long, "-A") {
		t.Errorf("long namespace: schema %q (%d bytes): want at most 63 lower-case bytes", long, len(long))
	}
}

func TestParseURLRefusesWithoutThePassword(t *testing.T) {
	t.Parallel()
	const pw = "s3cretpw"
	for _, raw := range []string{
		"memory",
		"mysql://u:" + pw + "@h/db",
		"postgres://u:" + pw + "@h:abc/db",
		"postgres://u:" + pw + "@h:5432/db?sslmode=bogus",
		"postgres://u:" + pw + "@h:5432/db?pool_max_conns=many",
		"postgres://u:" + pw + "@/db",
		"postgres://u:p%zz@h/db",
	} {
		_, err := pgstate.ParseURL("--state", raw)
		if err == nil {
			t.Errorf("ParseURL(%q): no error", raw)
			continue
		}
		if !errors.Is(err, pgstate.ErrBadURL) {
			t.Errorf("ParseURL(%q): %v does not wrap ErrBadURL", raw, err)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "p%zz") {
			t.Errorf("ParseURL(%q): the error carries the password: %v", raw, err)
		}
	}
	if _, err := pgstate.ParseURL("--state", "postgresql://oms:"+pw+"@127.0.0.1:5432/oms?sslmode=disable"); err != nil {
		t.Errorf("a good URL: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	const pw = "s3cretpw"
	_, err := pgstate.Open(bg, "postgres://u:"+pw+"@127.0.0.1:1/db", pgstate.Options{ConnectTimeout: time.Second})
	if !errors.Is(err, engine.ErrStateUnreachable) {
		t.Fatalf("Open of a closed port: %v, want ErrStateUnreachable", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), pw) {
		t.Errorf("error %q: want host:port named, no password", err)
	}
}

// TestMigrateTwiceAndConcurrently: processes opening one namespace at
// once take turns at the migration; the schema ends at its version, each
// migration recorded once; opening again changes nothing.
func TestMigrateTwiceAndConcurrently(t *testing.T) {
	t.Parallel()
	u := pgtest.Require(t)
	ns := pgtest.Namespace(t)
	pgtest.DropAtCleanup(t, ns)
	const n = 6
	stores := make([]*pgstate.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = pgstate.Open(bg, u, pgstate.Options{Namespace: ns}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer stores[i].Close()
	}
	again, err := pgstate.Open(bg, u, pgstate.Options{Namespace: ns})
	if err != nil {
		t.Fatalf("open again: %v", err)
	}
	defer again.Close()
	v := pgstate.SchemaVersion()
	if v < 1 {
		t.Fatalf("SchemaVersion() = %d", v)
	}
	if got := count(t, again, `SELECT count(*) FROM schema_migrations`); got != v {
		t.Errorf("%d migrations recorded, want %d (each once)", got, v)
	}
	if got := count(t, again, `SELECT max(version) FROM schema_migrations`); got != v {
		t.Errorf("schema at version %d, want %d", got, v)
	}
}

// TestNamespacesKeepApart: two namespaces on one database have their
// own stock.
func TestNamespacesKeepApart(t *testing.T) {
	t.Parallel()
	a, _ := prepared(t, catalog(2, 10, 1))
	b, _ := prepared(t, catalog(2, 10, 1))
	if _, ok, err := a.Take(bg, "o-1", 1, 4); err != nil || !ok {
		t.Fatalf("take: %v %v", ok, err)
	}
	la, _ := a.Stock(bg)
	lb, _ := b.Stock(bg)
	if la[0].Stock != 6 || lb[0].Stock != 10 {
		t.Errorf("stock of product 1: %d in a, %d in b; want 6 and 10", la[0].Stock, lb[0].Stock)
	}
	if a.Schema() == b.Schema() {
		t.Errorf("both namespaces in schema %s", a.Schema())
	}
}

// TestTakeNeverBelowZero: concurrent takes of one product sell exactly
// what there is, never more.
func TestTakeNeverBelowZero(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(1, 100, 1))
	const takers, qty = 50, 3
	var mu sync.Mutex
	took := 0
	var wg sync.WaitGroup
	for i := range takers {
		wg.Go(func() {
			_, ok, err := s.Take(bg, fmt.Sprintf("order-%d", i), 1, qty)
			if err != nil {
				t.Errorf("take %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				took++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if took != 100/qty {
		t.Errorf("%d takes of %d succeeded, want %d", took, qty, 100/qty)
	}
	list, err := s.Stock(bg)
	if err != nil {
		t.Fatal(err)
	}
	if list[0].Stock != 100-took*qty {
		t.Errorf("stock %d, want %d", list[0].Stock, 100-took*qty)
	}
	left, ok, err := s.Take(bg, "one-more", 1, qty)
	if err != nil || ok || left != 100%qty {
		t.Errorf("take past the end: left %d ok %v err %v; want %d, not ok", left, ok, err, 100%qty)
	}
	l, err := s.Ledger(bg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if u := l.Unbalanced(); len(u) > 0 {
		t.Errorf("stock does not balance: %+v", u)
	}
}

// TestRestartKeepsStockAndPrices: a second store on the namespace (a
// restart, or another process, even with another seed) keeps the stock,
// charges and prices the first left.
func TestRestartKeepsStockAndPrices(t *testing.T) {
	t.Parallel()
	first, ns := prepared(t, catalog(3, 10, 1))
	if _, ok, err := first.Take(bg, "o-1", 2, 4); err != nil || !ok {
		t.Fatalf("take: %v %v", ok, err)
	}
	if err := first.Charge(bg, "o-1", 1234); err != nil {
		t.Fatal(err)
	}
	price, _ := first.Price(2)
	first.Close()

	again := pgtest.Open(t, ns)
	if err := again.Prepare(bg, catalog(3, 10, 99)); err != nil {
		t.Fatal(err)
	}
	list, err := again.Stock(bg)
	if err != nil {
		t.Fatal(err)
	}
	if list[1].Stock != 6 || list[0].Stock != 10 {
		t.Errorf("after the restart: stock %+v, want product 2 at 6, the others 10", list)
	}
	if p, ok := again.Price(2); !ok || p != price {
		t.Errorf("price of product 2 after the restart: %d, want %d (the first start's)", p, price)
	}
	if n := count(t, again, `SELECT count(*) FROM charges WHERE order_id = 'o-1'`); n != 1 {
		t.Errorf("%d charges of o-1 after the restart, want 1", n)
	}
}

func TestChargeAndRefundOncePerOrder(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(1, 10, 1))
	since := time.Now().Add(-time.Minute)
	for range 3 {
		if err := s.Charge(bg, "o-1", 500); err != nil {
			t.Fatal(err)
		}
		if err := s.Refund(bg, "o-1", 500); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Refund(bg, "o-never-charged", 500); err != nil {
		t.Fatal(err)
	}
	l, err := s.Ledger(bg, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Charged) != 1 || len(l.DoubleCharged) != 0 || len(l.Refunded) != 2 {
		t.Errorf("ledger %+v: want one charge, none double, two refunds", l)
	}
	// Neither refund follows an inventory.failed outcome in the inbox.
	if len(l.UnjustifiedRefunds) != 2 {
		t.Errorf("unjustified refunds %v, want both", l.UnjustifiedRefunds)
	}
	if len(l.UnchargedRefunds) != 1 || l.UnchargedRefunds[0] != "o-never-charged" {
		t.Errorf("uncharged refunds %v, want [o-never-charged]", l.UnchargedRefunds)
	}
	later, err := s.Ledger(bg, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(later.Charged) != 0 {
		t.Errorf("charges since a minute from now: %v", later.Charged)
	}
}

func TestRestock(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(2, 10, 1))
	if err := s.Restock(bg, 0, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Restock(bg, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Restock(bg, 3, 1); err == nil || !strings.Contains(err.Error(), "unknown product 3") {
		t.Errorf("restock of product 3: %v", err)
	}
	if err := s.Restock(bg, 1, engine.MaxRestock); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Stock(bg)
	if list[0].Stock != 15+engine.MaxRestock || list[1].Stock != 16 {
		t.Errorf("stock %+v", list)
	}
	l, err := s.Ledger(bg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if u := l.Unbalanced(); len(u) > 0 || l.Stock[1].Restocked != 6 {
		t.Errorf("stock accounts %+v", l.Stock)
	}
}

// TestInbox: a claimed message's writes commit with its outcome; a second
// claim answers the outcome and writes nothing; a rolled-back claim
// leaves nothing and is claimed afresh.
func TestInbox(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(1, 10, 1))
	tx, _, found, err := s.Claim(bg, "payment", "o-1:order.created", "o-1")
	if err != nil || found {
		t.Fatalf("first claim: found %v, %v", found, err)
	}
	if err := s.Charge(tx.Context(bg), "o-1", 700); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(bg, "payment.success", []byte(`{"order_id":"o-1"}`)); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(bg) // after a commit: nothing
	_, rec, found, err := s.Claim(bg, "payment", "o-1:order.created", "o-1")
	if err != nil || !found || rec.Key != "payment.success" || string(rec.Body) != `{"order_id":"o-1"}` {
		t.Fatalf("second claim: found %v rec %+v err %v; want the recorded outcome", found, rec, err)
	}
	// Another stage's inbox is its own.
	if tx, _, found, err := s.Claim(bg, "email", "o-1:order.created", "o-1"); err != nil || found {
		t.Errorf("email's claim: found %v, %v", found, err)
	} else {
		tx.Rollback(bg)
	}

	tx, _, _, err = s.Claim(bg, "inventory", "o-2:payment.success", "o-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Take(tx.Context(bg), "o-2", 1, 4); err != nil || !ok {
		t.Fatalf("take in the claim: %v %v", ok, err)
	}
	tx.Rollback(bg)
	list, _ := s.Stock(bg)
	if list[0].Stock != 10 {
		t.Errorf("stock %d after a rolled-back take, want 10", list[0].Stock)
	}
	tx, _, found, err = s.Claim(bg, "inventory", "o-2:payment.success", "o-2")
	if err != nil || found {
		t.Fatalf("claim after a rollback: found %v, %v; want a fresh claim", found, err)
	}
	tx.Rollback(bg)
	if n := count(t, s, `SELECT count(*) FROM charges`); n != 1 {
		t.Errorf("%d charges, want 1", n)
	}
}

// TestInboxSecondClaimerWaits: a claim made while another transaction
// holds the same message waits for it, then finds its outcome.
func TestInboxSecondClaimerWaits(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(1, 10, 1))
	tx, _, _, err := s.Claim(bg, "payment", "o-1:order.created", "o-1")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		rec   engine.InboxRecord
		found bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		tx2, rec, found, err := s.Claim(bg, "payment", "o-1:order.created", "o-1")
		if tx2 != nil {
			tx2.Rollback(bg)
		}
		done <- result{rec, found, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("the second claim did not wait for the first: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	if err := s.Charge(tx.Context(bg), "o-1", 700); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(bg, "payment.success", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || !r.found || r.rec.Key != "payment.success" {
		t.Errorf("second claim: %+v; want the first's outcome", r)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(3, 10, 1))
	k := s.Keys()
	req := engine.OrderRequest{ProductID: 2, Quantity: 1, UserID: 7}
	now := time.Now()
	made := 0
	mk := func() engine.Order { made++; return engine.NewOrder(req) }

	o, v, prev, err := k.Begin(bg, "key-1", req, now, mk)
	if err != nil || v != engine.KeyPublish || prev != engine.KeyFailed || made != 1 {
		t.Fatalf("new key: verdict %v prev %v made %d err %v", v, prev, made, err)
	}
	if _, v, _, _ := k.Begin(bg, "key-1", req, now, mk); v != engine.KeyBusy {
		t.Errorf("key in flight: verdict %v, want busy", v)
	}
	if err := k.End(bg, "key-1", engine.KeyAccepted); err != nil {
		t.Fatal(err)
	}
	again, v, _, err := k.Begin(bg, "key-1", req, now, mk)
	if err != nil || v != engine.KeyReplay || again.OrderID != o.OrderID || !again.CreatedAt.Equal(o.CreatedAt) {
		t.Errorf("accepted key: verdict %v order %+v err %v; want a replay of %+v", v, again, err, o)
	}
	other := req
	other.Quantity = 2
	if _, v, _, _ := k.Begin(bg, "key-1", other, now, mk); v != engine.KeyMismatch {
		t.Errorf("key with another body: verdict %v, want mismatch", v)
	}
	// A key left in flight by a process that died: indeterminate once
	// stale, and the same order is published again.
	if _, _, _, err := k.Begin(bg, "key-2", req, now, mk); err != nil {
		t.Fatal(err)
	}
	o2, v, prev, err := k.Begin(bg, "key-2", req, now.Add(engine.KeyInFlightStale+time.Second), mk)
	if err != nil || v != engine.KeyPublish || prev != engine.KeyIndeterminate {
		t.Errorf("stale key: verdict %v prev %v err %v; want publish after indeterminate", v, prev, err)
	}
	if made != 2 || o2.OrderID == "" {
		t.Errorf("stale key made a new order (made %d)", made)
	}
	// Past the time to live a key is new again.
	if _, v, prev, err := k.Begin(bg, "key-1", other, now.Add(engine.DefaultIdempotencyTTL+time.Second), mk); err != nil || v != engine.KeyPublish || prev != engine.KeyFailed {
		t.Errorf("expired key: verdict %v prev %v err %v; want a new key", v, prev, err)
	}
}

// TestKeysConcurrentFirstUse: requests with one new key at once publish
// one order; the others are busy.
func TestKeysConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	s, _ := prepared(t, catalog(3, 10, 1))
	req := engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}
	const n = 8
	verdicts := make([]engine.KeyVerdict, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, v, _, err := s.Keys().Begin(bg, "same", req, time.Now(), func() engine.Order { return engine.NewOrder(req) })
			if err != nil {
				t.Errorf("begin %d: %v", i, err)
			}
			verdicts[i] = v
		})
	}
	wg.Wait()
	publish := 0
	for _, v := range verdicts {
		if v == engine.KeyPublish {
			publish++
		} else if v != engine.KeyBusy {
			t.Errorf("verdict %v, want publish or busy", v)
		}
	}
	if publish != 1 {
		t.Errorf("%d requests publish, want 1", publish)
	}
}

// TestPrune: Prune forgets keys past their time to live and all but the
// newest MaxKeys, and inbox rows past their retention; the store's own
// pruner does it every PruneEvery while the store is open.
func TestPrune(t *testing.T) {
	t.Parallel()
	u := pgtest.Require(t)
	ns := pgtest.Namespace(t)
	pgtest.DropAtCleanup(t, ns)
	s, err := pgstate.Open(bg, u, pgstate.Options{Namespace: ns, KeyTTL: time.Hour, MaxKeys: 3, InboxRetention: time.Hour, PruneEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	key := func(name string, age time.Duration) {
		t.Helper()
		if _, err := s.Pool().Exec(bg, `INSERT INTO idempotency_keys (key, request, order_json, state, created_at, updated_at)
			VALUES ($1, '{}', '{}', 0, $2, $2)`, name, now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	key("expired", 2*time.Hour)
	for i, age := range []time.Duration{50 * time.Minute, 40 * time.Minute, 3 * time.Minute, 2 * time.Minute, time.Minute} {
		key(fmt.Sprintf("fresh-%d", i), age)
	}
	if _, err := s.Pool().Exec(bg, `INSERT INTO inbox (stage, message_id, order_id, at) VALUES
		('payment', 'old', 'o1', now() - interval '2 hours'), ('payment', 'new', 'o2', now())`); err != nil {
		t.Fatalf("inbox rows (the table's columns changed?): %v", err)
	}
	keys, inbox, err := s.Prune(bg)
	if err != nil {
		t.Fatal(err)
	}
	if keys != 3 || inbox != 1 {
		t.Errorf("pruned %d keys and %d inbox rows, want 3 (one expired, two beyond the newest 3) and 1", keys, inbox)
	}
	var left []string
	rows, err := s.Pool().Query(bg, `SELECT key FROM idempotency_keys ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		left = append(left, k)
	}
	if want := []string{"fresh-2", "fresh-3", "fresh-4"}; !slices.Equal(left, want) {
		t.Errorf("keys left %v, want the newest three %v", left, want)
	}
	if n := count(t, s, `SELECT count(*) FROM inbox`); n != 1 {
		t.Errorf("%d inbox rows left, want the recent one", n)
	}

	// The pruner of an open store does it by itself.
	quick, err := pgstate.Open(bg, u, pgstate.Options{Namespace: ns, KeyTTL: time.Hour, PruneEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	key("expired-again", 3*time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for count(t, quick, `SELECT count(*) FROM idempotency_keys WHERE key = 'expired-again'`) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the store's pruner did not remove an expired key within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	quick.Close()
	quick.Close() // idempotent, and the pruner has stopped
}
