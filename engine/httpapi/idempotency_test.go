package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
)

func TestIdemKeysBounds(t *testing.T) {
	t0 := time.Now()
	k := newIdemKeys(3, time.Minute)
	req := engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}
	n := 0
	mk := func() engine.Order { n++; return engine.Order{OrderID: fmt.Sprint("o", n)} }
	for i := 0; i < 5; i++ {
		key := fmt.Sprint("k", i)
		if _, v, _ := k.begin(key, req, t0, mk); v != keyPublish {
			t.Fatalf("new key %s: verdict %d", key, v)
		}
		k.end(key, keyAccepted)
	}
	if got := k.len(); got != 3 {
		t.Errorf("%d keys kept, want the bound 3", got)
	}
	if o, v, _ := k.begin("k0", req, t0, mk); v != keyPublish || o.OrderID != "o6" {
		t.Errorf("the oldest key is forgotten past the count: verdict %d order %s", v, o.OrderID)
	}
	if o, v, _ := k.begin("k4", req, t0, mk); v != keyReplay || o.OrderID != "o5" {
		t.Errorf("a kept key replays its order: verdict %d order %s", v, o.OrderID)
	}
	if _, v, _ := k.begin("k4", req, t0.Add(time.Minute), mk); v != keyPublish {
		t.Errorf("a key older than the ttl is forgotten: verdict %d", v)
	}
}

func TestIdemKeysStates(t *testing.T) {
	t0 := time.Now()
	req := engine.OrderRequest{ProductID: 2, Quantity: 3, UserID: 4}
	other := engine.OrderRequest{ProductID: 2, Quantity: 1, UserID: 4}
	k := newIdemKeys(10, time.Hour)
	mk := func() engine.Order { return engine.NewOrder(req) }
	first, v, prev := k.begin("a", req, t0, mk)
	if v != keyPublish || prev != keyFailed {
		t.Fatalf("first: verdict %d prev %d", v, prev)
	}
	if _, v, _ := k.begin("a", req, t0, mk); v != keyBusy {
		t.Errorf("while in flight: verdict %d, want busy", v)
	}
	if _, v, _ := k.begin("a", other, t0, mk); v != keyMismatch {
		t.Errorf("another body: verdict %d, want mismatch", v)
	}
	k.end("a", keyIndeterminate)
	again, v, prev := k.begin("a", req, t0, mk)
	if v != keyPublish || prev != keyIndeterminate || again != first {
		t.Errorf("retry after indeterminate: verdict %d prev %d, order %v want the same %v", v, prev, again, first)
	}
	k.end("a", keyAccepted)
	if o, v, _ := k.begin("a", req, t0, mk); v != keyReplay || o != first {
		t.Errorf("after accept: verdict %d order %v", v, o)
	}
}

// FuzzIdempotencyKey feeds arbitrary keys and bodies through what a keyed
// POST does before publishing: the key check, the body decoder and the
// key memory. A key is either refused with a reason or behaves: the same
// body gets the same order, another body is refused as a mismatch.
func FuzzIdempotencyKey(f *testing.F) {
	f.Add("0193a4d2-7c11-7def-8abc-0123456789ab", []byte(`{"product_id":1,"quantity":2,"user_id":3}`), []byte(`{"product_id":1,"quantity":2,"user_id":3}`))
	f.Add("k", []byte(`{"product_id":1,"quantity":2,"user_id":3}`), []byte(`{"product_id":1,"quantity":1,"user_id":3}`))
	f.Add("", []byte(`{}`), []byte(`[]`))
	f.Add("a\x00b", []byte(`{"product_id":1,"quantity":2}`), []byte(`{"product_id":"1"}`))
	f.Add(strings.Repeat("x", 300), []byte(`{"product_id":1,"quantity":2,"user_id":3}`), []byte(`null`))
	known := func(id int) bool { return id >= 1 && id <= 50 }
	f.Fuzz(func(t *testing.T, key string, body1, body2 []byte) {
		err := engine.CheckIdempotencyKey(key)
		if err != nil {
			if !strings.Contains(err.Error(), engine.HeaderIdempotencyKey) {
				t.Fatalf("refusal does not name the header: %v", err)
			}
			return
		}
		if key == "" || len(key) > engine.MaxIdempotencyKeyLen {
			t.Fatalf("key of %d bytes passed the check", len(key))
		}
		r1, err1 := engine.DecodeOrderRequest(body1, known)
		r2, err2 := engine.DecodeOrderRequest(body2, known)
		if err1 != nil || err2 != nil {
			return // answered 400 before the key is looked at
		}
		k := newIdemKeys(4, time.Hour)
		now := time.Now()
		o1, v, _ := k.begin(key, r1, now, func() engine.Order { return engine.NewOrder(r1) })
		if v != keyPublish {
			t.Fatalf("new key: verdict %d", v)
		}
		k.end(key, keyAccepted)
		o2, v, _ := k.begin(key, r2, now, func() engine.Order { return engine.NewOrder(r2) })
		switch {
		case r1 == r2 && (v != keyReplay || o2 != o1):
			t.Fatalf("same body: verdict %d, order %v want %v", v, o2, o1)
		case r1 != r2 && v != keyMismatch:
			t.Fatalf("bodies %+v and %+v: verdict %d, want mismatch", r1, r2, v)
		}
	})
}

// keyedPost posts an order with an Idempotency-Key to srv.
func keyedPost(t *testing.T, srv *httptest.Server, key, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/orders", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(engine.HeaderIdempotencyKey, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, resp.Header, out
}

// TestIdempotencyKeyOnRabbitMQ: the same key and body answer the same
// order (202, then 200 with its status), another body 422, a key being
// handled 409, a malformed key 400; only one order is placed.
func TestIdempotencyKeyOnRabbitMQ(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), func(c *engine.Config) { c.IdempotencyKeys = 100 })
	api := newServer(e)
	srv := httptest.NewServer(api.routes())
	defer srv.Close()
	const body = `{"product_id":3,"quantity":2,"user_id":7}`

	code, _, first := keyedPost(t, srv, "key-1", body)
	if code != http.StatusAccepted || first["order_id"] == nil {
		t.Fatalf("first POST: %d %v", code, first)
	}
	id := first["order_id"].(string)
	waitStatus(t, e, id, engine.StatusConfirmed)
	code, h, again := keyedPost(t, srv, "key-1", body)
	if code != http.StatusOK || again["order_id"] != id || again["status"] != string(engine.StatusConfirmed) || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %v (Idempotent-Replayed %q), want 200 with order %s confirmed", code, again, h.Get("Idempotent-Replayed"), id)
	}
	code, _, mismatch := keyedPost(t, srv, "key-1", `{"product_id":3,"quantity":1,"user_id":7}`)
	if code != http.StatusUnprocessableEntity || mismatch["reason"] != ReasonKeyMismatch || mismatch["field"] != engine.HeaderIdempotencyKey {
		t.Errorf("another body: %d %v, want 422 %s", code, mismatch, ReasonKeyMismatch)
	}
	// A request with this key is publishing right now.
	api.idem.(*idemKeys).begin("key-2", engine.OrderRequest{ProductID: 3, Quantity: 2, UserID: 7}, time.Now(), func() engine.Order { return engine.NewOrder(engine.OrderRequest{}) })
	code, h, busy := keyedPost(t, srv, "key-2", body)
	if code != http.StatusConflict || busy["reason"] != ReasonKeyInUse || h.Get("Retry-After") == "" {
		t.Errorf("key in flight: %d %v Retry-After %q, want 409 %s", code, busy, h.Get("Retry-After"), ReasonKeyInUse)
	}
	for _, bad := range []string{"", strings.Repeat("k", engine.MaxIdempotencyKeyLen+1), "tab\there"} {
		code, _, out := keyedPost(t, srv, bad, body)
		if code != http.StatusBadRequest || out["field"] != engine.HeaderIdempotencyKey {
			t.Errorf("key %q: %d %v, want 400 naming the header", bad, code, out)
		}
	}
	if c := e.Counts(); c.Accepted != 1 || c.Confirmed != 1 {
		t.Errorf("counts %+v: want the one order", c)
	}
}

// TestRetryAfterIndeterminateRunsOnce: the broker got an order whose
// confirm the API never saw (answered 503, indeterminate); the client
// retries with the same key, so the API publishes the same order again.
// On RabbitMQ the order must run once: one charge, one outcome, and the
// second copy answered from the payment stage's memory.
func TestRetryAfterIndeterminateRunsOnce(t *testing.T) {
	t.Parallel()
	d := rabbitDialer(t)
	e := startEngine(t, d, func(c *engine.Config) { c.IdempotencyKeys = 100 })
	api := newServer(e)
	srv := httptest.NewServer(api.routes())
	defer srv.Close()
	req := engine.OrderRequest{ProductID: 4, Quantity: 1, UserID: 9}
	// What a timed-out first attempt leaves behind: the message at the
	// broker (as the engine publishes it, with the message id payment
	// deduplicates on), the key marked indeterminate, an indeterminate event.
	o, _, _ := api.idem.(*idemKeys).begin("retry-me", req, time.Now(), func() engine.Order { return engine.NewOrder(req) })
	conf, err := testChannel(t, d, "test-first-attempt").Publish(context.Background(), broker.Message{
		Exchange: e.Names().Of(engine.ExchangeOrders), RoutingKey: engine.KeyOrderCreated,
		ContentType: "application/json", MessageID: o.OrderID + ":" + engine.KeyOrderCreated, CorrelationID: o.OrderID,
		Timestamp: time.Now(), Persistent: true,
		Headers: map[string]any{engine.HeaderPublishedAt: time.Now().UnixNano(), engine.HeaderAttempt: int64(1)},
		Body:    o.AppendJSONPadded(nil, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if <-conf.Done(); !conf.Acked() {
		t.Fatal("the broker refused the first attempt's message")
	}
	api.idem.(*idemKeys).end("retry-me", keyIndeterminate)
	e.Emit(engine.Event{OrderID: o.OrderID, Type: engine.EventIndeterminate, Stage: engine.RoleAPI, Worker: "api"})
	waitStatus(t, e, o.OrderID, engine.StatusConfirmed)
	if c := e.Counts(); c.Indeterminate != 1 || c.Recovered != 1 || c.Accepted != 0 {
		t.Errorf("before the retry: %+v, want 1 indeterminate, recovered", c)
	}

	code, _, out := keyedPost(t, srv, "retry-me", `{"product_id":4,"quantity":1,"user_id":9}`)
	if code != http.StatusAccepted || out["order_id"] != o.OrderID {
		t.Fatalf("retry: %d %v, want 202 for order %s", code, out, o.OrderID)
	}
	waitFor(t, 10*time.Second, "the duplicate order.created to be answered from memory", func() bool {
		return e.Snapshot().Stages[0].Redelivered >= 1
	})
	time.Sleep(300 * time.Millisecond) // let any (wrong) second outcome arrive
	c := e.Counts()
	if c.Accepted != 1 || c.Confirmed != 1 || c.Duplicated != 0 || c.Indeterminate != 0 || c.Recovered != 0 {
		t.Errorf("after the retry: %+v, want one accepted order, confirmed once", c)
	}
	rec, _ := e.Order(o.OrderID)
	paid := 0
	for _, ev := range rec.Events {
		if ev.Type == engine.EventPaid {
			paid++
		}
	}
	if paid != 1 {
		t.Errorf("order charged %d times, want once: %+v", paid, rec.Events)
	}
}
