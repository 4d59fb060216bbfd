package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"oms-sim/engine"
	"oms-sim/internal/brokertest"
)

// TestReturnedOrderAnswers503 deletes the binding that takes order.created
// to the payment queue, as an operator might: the API's publish comes back
// from the broker (mandatory, no route), so POST /api/orders must answer
// 503 with reason unroutable and say why, the snapshot must count it as
// unroutable (part of unavailable, not indeterminate), and nothing may be
// accepted. Bound again, the same request is accepted.
func TestReturnedOrderAnswers503(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), nil)
	n := e.Names()
	rebind := brokertest.Unbind(t, n.Queue(engine.StagePayment), n.Of(engine.ExchangeOrders), engine.KeyOrderCreated)
	before := e.Counts()

	srv := httptest.NewServer(Handler(e))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/orders", "application/json", strings.NewReader(`{"product_id":1,"quantity":1,"user_id":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var body apiError
	derr := json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || derr != nil || body.Reason != ReasonUnroutable || !strings.Contains(body.Error, "unroutable") {
		t.Errorf("POST with order.created unroutable: %d %+v (%v); want 503 reason %q saying why", resp.StatusCode, body, derr, ReasonUnroutable)
	}
	snap := e.Snapshot()
	if snap.API.Unroutable != 1 || snap.API.Unavailable < 1 || snap.API.Indeterminate != 0 {
		t.Errorf("API counts %+v: want unroutable 1 (part of unavailable), indeterminate 0", snap.API)
	}
	if c := e.Counts(); c.Accepted != before.Accepted || c.Open != 0 {
		t.Errorf("counts %+v: want nothing accepted, nothing open", c)
	}

	rebind()
	postOrder(t, srv, `{"product_id":1,"quantity":1,"user_id":3}`)
}
