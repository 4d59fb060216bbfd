package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"oms-sim/engine"
	"oms-sim/engine/pgstate"
	"oms-sim/internal/pgtest"
)

// With a shared state (--state postgres://…) the API's stock and
// Idempotency-Keys are the database's: what every process answers.

// sharedAPI starts an engine in namespace ns with its own store on the
// test database (as a process of its own would) and serves its API.
func sharedAPI(t *testing.T, ns string, roles ...string) (*httptest.Server, *pgstate.Store) {
	t.Helper()
	st := pgtest.Open(t, ns)
	e := startEngine(t, rabbitDialer(t), func(c *engine.Config) {
		c.Namespace, c.Process, c.State = ns, ns+"-"+roles[0], st
		c.Roles = roles
		c.IdempotencyKeys = engine.DefaultIdempotencyKeys
		c.Catalog = engine.Catalog{Products: 3, Stock: 10}
	})
	srv := httptest.NewServer(Handler(e))
	t.Cleanup(srv.Close)
	return srv, st
}

func post(t *testing.T, srv *httptest.Server, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(engine.HeaderIdempotencyKey, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func getStock(t *testing.T, srv *httptest.Server) (int, []engine.ProductStock) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/inventory")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []engine.ProductStock
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestSharedStateAcrossAPIs: a key used at one process's API replays at
// another's; a restock at one shows in the other's inventory.
func TestSharedStateAcrossAPIs(t *testing.T) {
	ns := pgtest.Namespace(t)
	a, _ := sharedAPI(t, ns, engine.RoleAPI, engine.StagePayment, engine.StageInventory, engine.StageEmail)
	b, _ := sharedAPI(t, ns, engine.RoleAPI)

	code, first := post(t, a, "/api/orders", "key-1", seedRequest)
	if code != http.StatusAccepted {
		t.Fatalf("first POST: %d %v", code, first)
	}
	code, again := post(t, b, "/api/orders", "key-1", seedRequest)
	if code != http.StatusOK || again["order_id"] != first["order_id"] {
		t.Errorf("the same key at the other API: %d %v; want 200 replaying order %v", code, again, first["order_id"])
	}
	if code, _ := post(t, b, "/api/orders", "key-1", `{"product_id": 2, "quantity": 1, "user_id": 100}`); code != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body at the other API: %d, want 422", code)
	}

	if code, body := post(t, a, "/api/inventory/restock", "", `{"product_id": 3, "quantity": 5}`); code != http.StatusOK {
		t.Fatalf("restock: %d %v", code, body)
	}
	code, stock := getStock(t, b)
	if code != http.StatusOK || len(stock) != 3 || stock[2].Stock != 15 {
		t.Errorf("the other API's inventory after the restock: %d %+v; want product 3 at 15", code, stock)
	}
}

// TestSharedStateDown: a shared state that cannot be read answers 503
// with Retry-After for the inventory, a restock and a keyed order, never
// a stale or empty list.
func TestSharedStateDown(t *testing.T) {
	ns := pgtest.Namespace(t)
	srv, st := sharedAPI(t, ns, engine.RoleAPI, engine.StagePayment, engine.StageInventory, engine.StageEmail)
	st.Close() // every query now fails
	if code, _ := getStock(t, srv); code != http.StatusServiceUnavailable {
		t.Errorf("GET /api/inventory: %d, want 503", code)
	}
	code, body := post(t, srv, "/api/inventory/restock", "", `{"product_id": 1, "quantity": 5}`)
	if code != http.StatusServiceUnavailable || body["reason"] != ReasonUnavailable {
		t.Errorf("restock: %d %v, want 503 unavailable", code, body)
	}
	code, body = post(t, srv, "/api/orders", "key-1", seedRequest)
	if code != http.StatusServiceUnavailable || !strings.Contains(body["error"].(string), "Idempotency-Key store") {
		t.Errorf("keyed order: %d %v, want 503 naming the key store", code, body)
	}
}
