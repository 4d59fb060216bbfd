package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

// TestDrawKeyHeader: POST /api/orders takes Oms-Draw-Key into the order
// (and its GET), and refuses a malformed one with 400 naming the header.
func TestDrawKeyHeader(t *testing.T) {
	e, srv, _ := apiServer(t)
	post := func(key ...string) answer {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/orders", strings.NewReader(`{"product_id":1,"quantity":1,"user_id":3}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for _, k := range key {
			req.Header.Add(engine.HeaderDrawKey, k)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		a := answer{code: resp.StatusCode}
		if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
			t.Fatalf("answer %d: %v", resp.StatusCode, err)
		}
		return a
	}
	a := post("7/123")
	id, _ := a.body["order_id"].(string)
	if a.code != http.StatusAccepted || id == "" {
		t.Fatalf("with a draw key: %d %v", a.code, a.body)
	}
	waitFor(t, 10*time.Second, "the order in the store", func() bool {
		rec, ok := e.Order(id)
		return ok && rec.DrawKey == "7/123"
	})
	got := do(t, srv, http.MethodGet, "/api/orders/"+id, "", "")
	if got.body["draw_key"] != "7/123" {
		t.Errorf("GET /api/orders/%s: draw_key %v, want 7/123", id, got.body["draw_key"])
	}
	for name, keys := range map[string][]string{
		"empty":     {""},
		"too long":  {strings.Repeat("k", engine.MaxDrawKeyLen+1)},
		"non-ASCII": {"sé"},
		"twice":     {"1/1", "1/2"},
	} {
		a := post(keys...)
		if a.code != http.StatusBadRequest || a.body["field"] != engine.HeaderDrawKey {
			t.Errorf("%s draw key: %d %v, want 400 naming %s", name, a.code, a.body, engine.HeaderDrawKey)
		}
	}
	if a := post(strings.Repeat("k", engine.MaxDrawKeyLen)); a.code != http.StatusAccepted {
		t.Errorf("a %d-byte draw key: %d %v, want 202", engine.MaxDrawKeyLen, a.code, a.body)
	}
}
