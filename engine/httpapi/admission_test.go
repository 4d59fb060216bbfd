package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

// monitorSample is how often the engine's monitor samples the queues (its
// sampleEvery, unexported): a new backlog shows within one.
const monitorSample = 250 * time.Millisecond

// TestAdmissionSheds: with payment stopped the backlog passes the bound;
// from then on POST /api/orders answers 503 with Retry-After and reason
// backlog, publishes nothing, and counts the order as shed, not as
// unavailable. Turning the bound off lets orders in again.
func TestAdmissionSheds(t *testing.T) {
	t.Parallel()
	const bound = 50
	e := startEngine(t, rabbitDialer(t), func(c *engine.Config) { c.MaxBacklog = bound })
	srv := httptest.NewServer(Handler(e))
	defer srv.Close()
	post := func() (int, http.Header, apiError) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/orders", "application/json", strings.NewReader(`{"product_id":1,"quantity":1,"user_id":1}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body apiError
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode, resp.Header, body
	}
	if err := e.PauseStage("test", engine.StagePayment); err != nil {
		t.Fatal(err)
	}
	// Workers stopped just as they started may still take and finish a
	// prefetch's worth, so place orders until the backlog passes the bound.
	for placed := 0; !e.Snapshot().Admission.Shedding; placed += 20 {
		if placed > bound+2*engine.DefaultWorkers*engine.DefaultPrefetch {
			t.Fatalf("placed %d orders with payment stopped and the monitor sees a backlog of %d, bound %d",
				placed, e.Snapshot().Admission.Backlog, bound)
		}
		placeMany(t, e, 20, 16)
		time.Sleep(2 * monitorSample)
	}

	accepted := e.Counts().Accepted
	for i := 0; i < 5; i++ {
		code, h, body := post()
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || body.Reason != ReasonBacklog ||
			body.Backlog <= bound || body.MaxBacklog != bound || !strings.Contains(body.Error, "max-backlog") {
			t.Fatalf("POST while shedding: %d Retry-After %q body %+v", code, h.Get("Retry-After"), body)
		}
	}
	snap := e.Snapshot()
	if snap.API.Shed != 5 || snap.API.Unavailable != 0 || snap.Admission.Shed != 5 {
		t.Errorf("api %+v admission %+v: want 5 shed, none unavailable", snap.API, snap.Admission)
	}
	if got := e.Counts().Accepted; got != accepted {
		t.Errorf("accepted went from %d to %d while shedding: a shed order must not be published", accepted, got)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `oms_api_requests_total{result="shed"} 5`) {
		t.Errorf("/metrics has no shed count of 5:\n%s", grepLines(string(metrics), "oms_api"))
	}

	if err := e.SetMaxBacklog("test", 0); err != nil {
		t.Fatal(err)
	}
	if code, _, body := post(); code != http.StatusAccepted {
		t.Fatalf("POST with admission off: %d %+v", code, body)
	}
	if err := e.ResumeStage("test", engine.StagePayment); err != nil {
		t.Fatal(err)
	}
	if c := waitSettled(t, e, 30*time.Second); c.Confirmed != accepted+1 {
		t.Errorf("after the drain %+v, want %d confirmed", c, accepted+1)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
