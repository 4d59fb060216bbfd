package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker/embedded"
)

// apiServer runs the API over the embedded broker: these tests are about
// HTTP answers, not the broker (the pipeline tests use RabbitMQ).
func apiServer(t *testing.T) (*engine.Engine, *httptest.Server, *embedded.Broker) {
	t.Helper()
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, nil)
	srv := httptest.NewServer(Handler(e))
	t.Cleanup(srv.Close)
	return e, srv, b
}

type answer struct {
	code  int
	body  map[string]any
	raw   string
	retry string
}

func do(t *testing.T, srv *httptest.Server, method, path, contentType, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, raw: string(raw), retry: resp.Header.Get("Retry-After")}
	_ = json.Unmarshal(raw, &a.body) // some answers are arrays or text
	return a
}

func TestPlaceOrderBadInput(t *testing.T) {
	_, srv, _ := apiServer(t)
	const js = "application/json"
	tests := []struct {
		name, ct, body string
		code           int
		field          string
		msg            string // a fragment of the error
	}{
		{"malformed JSON", js, `{"product_id": 1,`, 400, "", "malformed JSON"},
		{"empty body", js, ``, 400, "", "malformed JSON"},
		{"not an object", js, `[1,2]`, 400, "", "malformed JSON"},
		{"trailing data", js, `{"product_id":1,"quantity":1,"user_id":1} {}`, 400, "", "trailing"},
		{"missing product", js, `{"quantity": 2, "user_id": 100}`, 400, "product_id", "required"},
		{"missing quantity", js, `{"product_id": 1, "user_id": 100}`, 400, "quantity", "required"},
		{"missing user", js, `{"product_id": 1, "quantity": 2}`, 400, "user_id", "required"},
		{"string product", js, `{"product_id": "1", "quantity": 2, "user_id": 100}`, 400, "product_id", "integer"},
		{"fractional quantity", js, `{"product_id": 1, "quantity": 1.5, "user_id": 100}`, 400, "quantity", "integer"},
		{"zero quantity", js, `{"product_id": 1, "quantity": 0, "user_id": 100}`, 400, "quantity", "at least 1"},
		{"negative quantity", js, `{"product_id": 1, "quantity": -3, "user_id": 100}`, 400, "quantity", "at least 1"},
		{"unknown product", js, `{"product_id": 999, "quantity": 1, "user_id": 100}`, 400, "product_id", "unknown product 999"},
		{"wrong content type", "text/plain", seedRequest, 415, "", "application/json"},
		{"no content type", "", seedRequest, 415, "", "application/json"},
		{"too large", js, `{"product_id": 1, "quantity": 2, "user_id": 100, "pad": "` + strings.Repeat("x", engine.MaxBodyBytes) + `"}`, 413, "", "exceeds"},
		{"charset is fine", "application/json; charset=utf-8", seedRequest, 202, "", ""},
		{"unknown fields ignored like the seed", js, `{"product_id": 1, "quantity": 2, "user_id": 100, "coupon": "X"}`, 202, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, "POST", "/api/orders", tt.ct, tt.body)
			if a.code != tt.code {
				t.Fatalf("code %d, want %d: %s", a.code, tt.code, a.raw)
			}
			if tt.code == 202 {
				return
			}
			msg, _ := a.body["error"].(string)
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q, want it to mention %q", msg, tt.msg)
			}
			if f, _ := a.body["field"].(string); f != tt.field {
				t.Errorf("field %q, want %q", f, tt.field)
			}
		})
	}
}

func TestPlaceOrderBrokerDown(t *testing.T) {
	e, srv, b := apiServer(t)
	b.Close() // the broker is gone and cannot be redialled
	waitFor(t, 5*time.Second, "the API to notice", func() bool { return !e.Ready() })
	a := do(t, srv, "POST", "/api/orders", "application/json", seedRequest)
	if a.code != http.StatusServiceUnavailable || a.retry == "" {
		t.Fatalf("got %d Retry-After %q: %s; want 503 with Retry-After", a.code, a.retry, a.raw)
	}
	if c := e.Counts(); c.Accepted != 0 {
		t.Errorf("%d orders counted accepted while the broker was down", c.Accepted)
	}
	if r := do(t, srv, "GET", "/readyz", "", ""); r.code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while disconnected, want 503", r.code)
	}
	if r := do(t, srv, "GET", "/healthz", "", ""); r.code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200: the process is alive", r.code)
	}
}

func TestReadAPI(t *testing.T) {
	e, srv, _ := apiServer(t)
	id := postOrder(t, srv, seedRequest)
	waitStatus(t, e, id, engine.StatusConfirmed)

	a := do(t, srv, "GET", "/api/orders/"+id, "", "")
	if a.code != 200 || a.body["status"] != "confirmed" || len(a.body["events"].([]any)) < 4 {
		t.Errorf("GET order: %d %s", a.code, a.raw)
	}
	if a := do(t, srv, "GET", "/api/orders/nope", "", ""); a.code != 404 || a.body["field"] != "id" {
		t.Errorf("GET unknown order: %d %s", a.code, a.raw)
	}
	if a := do(t, srv, "GET", "/api/orders?status=confirmed&limit=5", "", ""); a.code != 200 || a.body["total"].(float64) != 1 {
		t.Errorf("list confirmed: %d %s", a.code, a.raw)
	}
	if a := do(t, srv, "GET", "/api/orders?status=failed", "", ""); a.code != 200 || a.body["total"].(float64) != 0 {
		t.Errorf("list failed: %d %s", a.code, a.raw)
	}
	for _, q := range []string{"status=bogus", "limit=0", "limit=x", "offset=-1"} {
		if a := do(t, srv, "GET", "/api/orders?"+q, "", ""); a.code != 400 || a.body["field"] == "" {
			t.Errorf("list ?%s: %d %s, want 400 naming the field", q, a.code, a.raw)
		}
	}
	if a := do(t, srv, "GET", "/api/inventory", "", ""); a.code != 200 || !strings.Contains(a.raw, `"stock": 999998`) {
		t.Errorf("inventory after one order of 2: %d %.200s", a.code, a.raw)
	}
	if a := do(t, srv, "GET", "/metrics", "", ""); a.code != 200 || !strings.Contains(a.raw, `oms_orders_total{status="confirmed"} 1`) {
		t.Errorf("metrics: %d, confirmed count missing", a.code)
	}
	if a := do(t, srv, "GET", "/readyz", "", ""); a.code != 200 {
		t.Errorf("/readyz = %d, want 200", a.code)
	}
	if a := do(t, srv, "DELETE", "/api/orders", "", ""); a.code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /api/orders = %d, want 405", a.code)
	}
}

func TestPatchStage(t *testing.T) {
	e, srv, _ := apiServer(t)
	const js = "application/json"
	a := do(t, srv, "PATCH", "/api/stages/payment", js, `{"workers": 5, "service_time": "lognormal:4ms,30ms", "decline_rate": 0.5}`)
	if a.code != 200 {
		t.Fatalf("PATCH: %d %s", a.code, a.raw)
	}
	cfg := stageConfig(e, engine.StagePayment)
	if cfg.Workers != 5 || cfg.DeclineRate != 0.5 || cfg.ServiceTime.Kind != engine.DistLognormal || cfg.ServiceTime.P99 != 30*time.Millisecond {
		t.Errorf("config after PATCH: %+v", cfg)
	}
	waitFor(t, 5*time.Second, "5 payment workers running", func() bool { return e.Snapshot().Stages[0].Running == 5 })
	if a := do(t, srv, "PATCH", "/api/stages/payment", js, `{"service_time": {"dist": "uniform", "min": "1ms", "max": "3ms"}, "paused": true}`); a.code != 200 || a.body["paused"] != true {
		t.Errorf("PATCH object dist + pause: %d %s", a.code, a.raw)
	}
	for _, tt := range []struct{ path, body, want string }{
		{"/api/stages/payment", `{"workers": -1}`, "workers must be"},
		{"/api/stages/payment", `{"prefetch": 0}`, "prefetch must be"},
		{"/api/stages/payment", `{"error_rate": 2}`, "error_rate must be"},
		{"/api/stages/payment", `{"wrokers": 2}`, "unknown field"},
		{"/api/stages/payment", `{"workers": "two"}`, "workers"},
		{"/api/stages/payment", `{"service_time": "gamma:1ms"}`, "unknown distribution"},
		{"/api/stages/email", `{"decline_rate": 0.3}`, "payment stage only"},
	} {
		if a := do(t, srv, "PATCH", tt.path, js, tt.body); a.code != 400 || !strings.Contains(a.raw, tt.want) {
			t.Errorf("PATCH %s %s: %d %s, want 400 mentioning %q", tt.path, tt.body, a.code, a.raw, tt.want)
		}
	}
	if a := do(t, srv, "PATCH", "/api/stages/shipping", js, `{}`); a.code != 404 || !strings.Contains(a.raw, "payment, inventory, email") {
		t.Errorf("PATCH unknown stage: %d %s", a.code, a.raw)
	}
	if a := do(t, srv, "PATCH", "/api/stages/payment", "text/plain", `{}`); a.code != 415 {
		t.Errorf("PATCH text/plain: %d", a.code)
	}
}

// TestPatchStageRunElsewhere: a process's stage knobs are the ones it runs;
// a stage other processes run is changed there, not here.
func TestPatchStageRunElsewhere(t *testing.T) {
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *engine.Config) { c.Roles = []string{engine.RoleAPI, engine.StagePayment} })
	srv := httptest.NewServer(Handler(e))
	t.Cleanup(srv.Close)
	const js = "application/json"
	if a := do(t, srv, "PATCH", "/api/stages/inventory", js, `{"workers": 5}`); a.code != http.StatusConflict ||
		a.body["field"] != "name" || !strings.Contains(a.raw, "does not run in this process") {
		t.Errorf("PATCH a stage run elsewhere: %d %s, want 409 naming the role", a.code, a.raw)
	}
	if got := stageConfig(e, engine.StageInventory).Workers; got == 5 {
		t.Errorf("inventory workers changed to %d by a refused PATCH", got)
	}
	if err := e.PauseStage("test", engine.StageEmail); !errors.Is(err, engine.ErrStageElsewhere) {
		t.Errorf("PauseStage(email) = %v, want ErrStageElsewhere", err)
	}
	if a := do(t, srv, "PATCH", "/api/stages/payment", js, `{"workers": 3}`); a.code != 200 {
		t.Errorf("PATCH a stage run here: %d %s", a.code, a.raw)
	}
}

// TestOpenAPICoversRoutes checks that every route Handler serves is in
// the OpenAPI document and vice versa.
func TestOpenAPICoversRoutes(t *testing.T) {
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("(GET|POST|PATCH|DELETE|PUT) ([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		routes[strings.ToLower(m[1])+" "+m[2]] = true
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[method+" "+path] = true
		}
	}
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in api.go; the pattern is stale", len(routes))
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for r := range documented {
		if !routes[r] {
			t.Errorf("openapi.json documents %q, which Handler does not serve", r)
		}
	}
}

// TestAcceptedAnswerIsWriteJSONs: the accepted answer, written without
// reflection, is byte for byte what writeJSON writes for the map of its
// fields, for plain and awkward values alike.
func TestAcceptedAnswerIsWriteJSONs(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 18, 3, 40, 447239342, time.UTC)
	orders := []engine.Order{
		{OrderID: "01a22da0-761f-73a3-a6d3-7475f5b1750f", ProductID: 1, Quantity: 1, UserID: 2, CreatedAt: at},
		{OrderID: "a<b>&\"c\"\\d\u2028é\x01", ProductID: 2147483647, Quantity: 7, UserID: 0, CreatedAt: at.In(time.FixedZone("x", 3600))},
		{OrderID: "", ProductID: -1, Quantity: 0, UserID: -5},
		{OrderID: "o", ProductID: 3, Quantity: 4, UserID: 5, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, o := range orders {
		for _, st := range []engine.Status{engine.StatusPending, "paid", "we<ird"} {
			want := httptest.NewRecorder()
			writeJSON(want, http.StatusAccepted, map[string]any{
				"order_id": o.OrderID, "status": st, "product_id": o.ProductID, "quantity": o.Quantity,
				"user_id": o.UserID, "created_at": o.CreatedAt, "message": "Order placed successfully",
			})
			if got := appendAccepted(nil, o, st); string(got) != want.Body.String() {
				t.Errorf("order %+v, status %q:\n%s\nwant\n%s", o, st, got, want.Body.String())
			}
		}
	}
}
