package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"oms-sim/engine"
	"oms-sim/engine/broker/embedded"
)

func doAuth(t *testing.T, srv *httptest.Server, method, path, auth, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	a.code = resp.StatusCode
	var raw strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		raw.Write(buf[:n])
		if err != nil {
			break
		}
	}
	a.raw = raw.String()
	_ = json.Unmarshal([]byte(a.raw), &a.body)
	return a
}

// TestAdminToken: with a token, the changing endpoints need it; placing
// orders and reading stay open; the token never appears in an answer.
func TestAdminToken(t *testing.T) {
	const token = "s3cret-admin-token"
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *engine.Config) { c.AdminToken = token })
	srv := httptest.NewServer(Handler(e))
	t.Cleanup(srv.Close)

	changing := []struct{ method, path, body string }{
		{"PATCH", "/api/stages/payment", `{"workers": 3}`},
		{"POST", "/api/inventory/restock", `{"product_id": 1, "quantity": 5}`},
	}
	for _, c := range changing {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer", token} {
			a := doAuth(t, srv, c.method, c.path, auth, c.body)
			if a.code != http.StatusUnauthorized || a.body["reason"] != ReasonUnauthorized {
				t.Errorf("%s %s with Authorization %q: %d %s, want 401 reason unauthorized", c.method, c.path, auth, a.code, a.raw)
			}
			if strings.Contains(a.raw, token) {
				t.Errorf("401 body echoes the token: %s", a.raw)
			}
		}
		if a := doAuth(t, srv, c.method, c.path, "Bearer "+token, c.body); a.code != http.StatusOK {
			t.Errorf("%s %s with the token: %d %s, want 200", c.method, c.path, a.code, a.raw)
		}
		if a := doAuth(t, srv, c.method, c.path, "bearer  "+token+" ", c.body); a.code != http.StatusOK {
			t.Errorf("%s %s, scheme in lower case: %d %s, want 200", c.method, c.path, a.code, a.raw)
		}
	}
	if got := stageConfig(e, engine.StagePayment).Workers; got != 3 {
		t.Errorf("payment workers %d after the authorised PATCH, want 3", got)
	}
	if a := doAuth(t, srv, "POST", "/api/orders", "", seedRequest); a.code != http.StatusAccepted {
		t.Errorf("POST /api/orders without a token: %d %s, want 202 (placing orders stays open)", a.code, a.raw)
	}
	for _, p := range []string{"/api/stages", "/api/inventory", "/api/snapshot", "/healthz", "/metrics"} {
		if a := doAuth(t, srv, "GET", p, "", ""); a.code != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200 (reading stays open)", p, a.code)
		}
	}
	snap := e.Snapshot()
	if snap.API.Admin != engine.AdminToken || snap.API.Unauthorized != 10 {
		t.Errorf("snapshot api.admin %q unauthorized %d, want %q and 10", snap.API.Admin, snap.API.Unauthorized, engine.AdminToken)
	}
	js, _ := json.Marshal(snap)
	if strings.Contains(string(js), token) {
		t.Error("the snapshot carries the admin token")
	}
}

// TestLimits: each limit is refused with a clear error and changes nothing.
func TestLimits(t *testing.T) {
	e, srv, _ := apiServer(t)
	before := stageConfig(e, engine.StagePayment)
	for _, tt := range []struct{ body, want string }{
		{`{"workers": 1000, "prefetch": 65535}`, "workers × prefetch must be at most 100000"},
		{`{"workers": 1001}`, "workers must be 0..1000"},
		{`{"prefetch": 65536}`, "prefetch must be 1..65535"},
	} {
		if a := doAuth(t, srv, "PATCH", "/api/stages/payment", "", tt.body); a.code != 400 || !strings.Contains(a.raw, tt.want) {
			t.Errorf("PATCH %s: %d %s, want 400 mentioning %q", tt.body, a.code, a.raw, tt.want)
		}
	}
	if now := stageConfig(e, engine.StagePayment); now != before {
		t.Errorf("a refused PATCH changed the stage: %+v → %+v", before, now)
	}
	if a := doAuth(t, srv, "PATCH", "/api/stages/payment", "", `{"workers": 1000, "prefetch": 100}`); a.code != 200 {
		t.Errorf("PATCH at the bound (1000 × 100): %d %s, want 200", a.code, a.raw)
	}
	if a := doAuth(t, srv, "PATCH", "/api/stages/payment", "", `{"workers": 2}`); a.code != 200 {
		t.Fatalf("PATCH back to 2 workers: %d %s", a.code, a.raw)
	}

	stock := func(id int) int { return e.Inventory()[id-1].Stock }
	s1, s2 := stock(1), stock(2)
	big := strconv.Itoa(engine.MaxRestock + 1)
	for _, body := range []string{
		`{"product_id": 1, "quantity": 9223372036854775807}`,
		`{"product_id": 1, "quantity": ` + big + `}`,
		`{"product_id": 0, "quantity": 0}`,
		`{"product_id": 1, "quantity": 1e3}`,
	} {
		if a := doAuth(t, srv, "POST", "/api/inventory/restock", "", body); a.code != 400 || a.body["error"] == nil {
			t.Errorf("restock %s: %d %s, want 400 with an error", body, a.code, a.raw)
		}
	}
	// Up to the bound, then one more refused without a change.
	for stock(1) <= engine.MaxStock-engine.MaxRestock {
		if err := e.Restock("test", 1, engine.MaxRestock); err != nil {
			t.Fatalf("restock below the bound: %v", err)
		}
	}
	full := stock(1)
	if a := doAuth(t, srv, "POST", "/api/inventory/restock", "", `{"product_id": 0, "quantity": `+strconv.Itoa(engine.MaxRestock)+`}`); a.code != 400 || !strings.Contains(a.raw, "most a product may hold") {
		t.Errorf("restock of every product past one's bound: %d %s", a.code, a.raw)
	}
	if stock(1) != full || stock(2) != s2 {
		t.Errorf("a refused restock changed stock: product 1 %d → %d, product 2 %d → %d", full, stock(1), s2, stock(2))
	}
	_ = s1
	if err := (&engine.Config{IdempotencyKeys: engine.MaxIdempotencyKeys + 1}).Validate(); err == nil || !strings.Contains(err.Error(), "idempotency keys must be at most") {
		t.Errorf("Validate with too many idempotency keys: %v", err)
	}
}

// TestUnroutedAnswersJSON: unknown paths and methods answer JSON errors.
func TestUnroutedAnswersJSON(t *testing.T) {
	_, srv, _ := apiServer(t)
	a := doAuth(t, srv, "GET", "/api/nope", "", "")
	if a.code != 404 || !strings.Contains(a.body["error"].(string), "no such endpoint") {
		t.Errorf("GET /api/nope: %d %s, want a JSON 404", a.code, a.raw)
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/api/stages/payment", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(resp.Header.Get("Allow"), "PATCH") {
		t.Errorf("DELETE /api/stages/payment: %d %q Allow %q, want a JSON 405 with Allow", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"))
	}
}

// TestOpenAPIStatuses walks every route: each status the API answers in
// the table is documented for that route, and each documented status is
// either provoked here or named with the test that provokes it.
func TestOpenAPIStatuses(t *testing.T) {
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *engine.Config) {
		c.AdminToken = "tok"
		c.Roles = []string{engine.RoleAPI, engine.StagePayment, engine.StageEmail}
	})
	srv := httptest.NewServer(Handler(e))
	t.Cleanup(srv.Close)
	id := postOrder(t, srv, seedRequest)
	const tok = "Bearer tok"
	huge := `{"pad": "` + strings.Repeat("x", engine.MaxBodyBytes) + `"}`
	type req struct {
		method, path, route, auth, ct, body string
	}
	reqs := []req{
		{"POST", "/api/orders", "/api/orders", "", "application/json", seedRequest},
		{"POST", "/api/orders", "/api/orders", "", "application/json", `{}`},
		{"POST", "/api/orders", "/api/orders", "", "text/plain", seedRequest},
		{"POST", "/api/orders", "/api/orders", "", "application/json", huge},
		{"DELETE", "/api/orders", "/api/orders", "", "", ""},
		{"GET", "/api/orders", "/api/orders", "", "", ""},
		{"GET", "/api/orders?limit=0", "/api/orders", "", "", ""},
		{"GET", "/api/orders/" + id, "/api/orders/{id}", "", "", ""},
		{"GET", "/api/orders/nope", "/api/orders/{id}", "", "", ""},
		{"PUT", "/api/orders/nope", "/api/orders/{id}", "", "", ""},
		{"GET", "/api/stages", "/api/stages", "", "", ""},
		{"POST", "/api/stages", "/api/stages", "", "", ""},
		{"GET", "/api/stages/payment", "/api/stages/{name}", "", "", ""},
		{"GET", "/api/stages/shipping", "/api/stages/{name}", "", "", ""},
		{"DELETE", "/api/stages/payment", "/api/stages/{name}", "", "", ""},
		{"PATCH", "/api/stages/payment", "/api/stages/{name}", tok, "application/json", `{"workers": 3}`},
		{"PATCH", "/api/stages/payment", "/api/stages/{name}", tok, "application/json", `{"workers": -1}`},
		{"PATCH", "/api/stages/payment", "/api/stages/{name}", "", "application/json", `{"workers": 3}`},
		{"PATCH", "/api/stages/shipping", "/api/stages/{name}", tok, "application/json", `{}`},
		{"PATCH", "/api/stages/inventory", "/api/stages/{name}", tok, "application/json", `{}`},
		{"PATCH", "/api/stages/payment", "/api/stages/{name}", tok, "application/json", huge},
		{"PATCH", "/api/stages/payment", "/api/stages/{name}", tok, "text/plain", `{}`},
		{"GET", "/api/inventory", "/api/inventory", "", "", ""},
		{"POST", "/api/inventory", "/api/inventory", "", "", ""},
		{"POST", "/api/inventory/restock", "/api/inventory/restock", tok, "application/json", `{"quantity": 5}`},
		{"POST", "/api/inventory/restock", "/api/inventory/restock", tok, "application/json", `{"quantity": 0}`},
		{"POST", "/api/inventory/restock", "/api/inventory/restock", "", "application/json", `{"quantity": 5}`},
		{"POST", "/api/inventory/restock", "/api/inventory/restock", tok, "application/json", huge},
		{"POST", "/api/inventory/restock", "/api/inventory/restock", tok, "text/plain", `{}`},
		{"GET", "/api/inventory/restock", "/api/inventory/restock", "", "", ""},
		{"GET", "/api/snapshot", "/api/snapshot", "", "", ""},
		{"POST", "/api/snapshot", "/api/snapshot", "", "", ""},
		{"GET", "/api/openapi.json", "/api/openapi.json", "", "", ""},
		{"POST", "/api/openapi.json", "/api/openapi.json", "", "", ""},
		{"GET", "/healthz", "/healthz", "", "", ""},
		{"POST", "/healthz", "/healthz", "", "", ""},
		{"GET", "/readyz", "/readyz", "", "", ""},
		{"POST", "/readyz", "/readyz", "", "", ""},
		{"GET", "/metrics", "/metrics", "", "", ""},
		{"POST", "/metrics", "/metrics", "", "", ""},
	}
	// Statuses that need a broker outage or a race, and where they are tested.
	elsewhere := map[string]string{
		"post /api/orders 200":            "TestIdempotencyKey*",
		"post /api/orders 409":            "TestIdempotencyKey*",
		"post /api/orders 422":            "TestIdempotencyKey*",
		"post /api/orders 503":            "TestPlaceOrderBrokerDown",
		"get /readyz 503":                 "TestPlaceOrderBrokerDown",
		"get /api/inventory 503":          "TestSharedStateDown",
		"post /api/inventory/restock 503": "TestSharedStateDown",
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m, op := range ops {
			for code := range op.Responses {
				documented[m+" "+path+" "+code] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		hr, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if r.ct != "" {
			hr.Header.Set("Content-Type", r.ct)
		}
		if r.auth != "" {
			hr.Header.Set("Authorization", r.auth)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		jerr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		method := strings.ToLower(r.method)
		if resp.StatusCode == 405 {
			// 405 is documented on each operation of the path.
			for m := range doc.Paths[r.route] {
				method = m
				break
			}
		}
		key := method + " " + r.route + " " + strconv.Itoa(resp.StatusCode)
		seen[key] = true
		if !documented[key] {
			t.Errorf("%s %s answered %d, not documented for %s %s", r.method, r.path, resp.StatusCode, method, r.route)
		}
		if resp.StatusCode >= 400 && (jerr != nil || body["error"] == nil) {
			t.Errorf("%s %s answered %d without a JSON error body (%v)", r.method, r.path, resp.StatusCode, jerr)
		}
	}
	var missing []string
	for k := range documented {
		code := k[strings.LastIndex(k, " ")+1:]
		if code == "405" {
			path := strings.Fields(k)[1]
			found := false
			for s := range seen {
				if strings.Contains(s, " "+path+" 405") {
					found = true
				}
			}
			if found {
				continue
			}
		}
		if !seen[k] && elsewhere[k] == "" {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("documented %q is provoked by no request of this test", k)
	}
}
