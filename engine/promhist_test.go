package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsParseWithHistograms places orders on the real broker, then
// scrapes /metrics twice: as text, parsed by expfmt, where every latency
// is a histogram whose count is the orders (or messages) seen and every
// audit category a counter; and as protobuf, where the same histograms
// carry native buckets too.
func TestMetricsParseWithHistograms(t *testing.T) {
	t.Parallel()
	e := startEngine(t, rabbitDialer(t), nil)
	const n = 12
	for i := range n {
		if _, err := e.PlaceOrder(context.Background(), OrderRequest{ProductID: 1 + i%3, Quantity: 1, UserID: 7}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every order ended", func() bool { return e.Counts().Open == 0 && e.Counts().Accepted == n })
	// oms_cpu_cores appears once the first second's CPU is measured.
	waitFor(t, 30*time.Second, "the process's CPU measured", func() bool { return e.Snapshot().ProcessCPU >= 0 })
	srv := httptest.NewServer(e.MetricsHandler())
	t.Cleanup(srv.Close)

	scrape := func(accept string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(scrape("").Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	hist := func(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Histogram {
		t.Helper()
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
			t.Fatalf("%s: %v, want a histogram", name, f.GetType())
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			return m.GetHistogram()
		}
		t.Fatalf("%s has no series %v", name, labels)
		return nil
	}
	e2e := hist(fams, "oms_e2e_duration_seconds", nil)
	if e2e.GetSampleCount() != n || e2e.GetSampleSum() <= 0 || len(e2e.GetBucket()) != len(latencyBuckets)+1 {
		t.Errorf("e2e histogram: count %d sum %v, %d buckets; want %d orders over %d buckets and +Inf", e2e.GetSampleCount(), e2e.GetSampleSum(), len(e2e.GetBucket()), n, len(latencyBuckets))
	}
	if last := e2e.GetBucket()[len(e2e.GetBucket())-1]; last.GetCumulativeCount() != n {
		t.Errorf("the +Inf bucket holds %d of %d orders", last.GetCumulativeCount(), n)
	}
	// Payment handles each order once (no declines by default).
	if w := hist(fams, "oms_stage_queue_wait_duration_seconds", map[string]string{"stage": "payment"}); w.GetSampleCount() != n {
		t.Errorf("payment queue wait count %d, want %d", w.GetSampleCount(), n)
	}
	if s := hist(fams, "oms_stage_service_duration_seconds", map[string]string{"stage": "email"}); s.GetSampleCount() != n {
		t.Errorf("email service count %d, want %d", s.GetSampleCount(), n)
	}
	if c := hist(fams, "oms_publish_confirm_duration_seconds", nil); c.GetSampleCount() < n {
		t.Errorf("confirm count %d, want ≥ %d", c.GetSampleCount(), n)
	}
	// Every audit category is a counter.
	got := map[string]float64{}
	for _, name := range []string{"oms_orders_total", "oms_orders_unaccepted_total", "oms_orders_duplicated_total", "oms_orders_redone_total"} {
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_COUNTER {
			t.Fatalf("%s is not a counter: %v", name, f)
		}
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	for _, k := range []string{"oms_orders_total/accepted", "oms_orders_total/confirmed", "oms_orders_total/payment_failed",
		"oms_orders_total/refunded", "oms_orders_total/dead_lettered", "oms_orders_duplicated_total", "oms_orders_redone_total",
		"oms_orders_unaccepted_total/orphaned", "oms_orders_unaccepted_total/indeterminate", "oms_orders_unaccepted_total/recovered"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no counter %s in %v", k, got)
		}
	}
	if got["oms_orders_total/accepted"] != n || got["oms_orders_total/confirmed"] != n {
		t.Errorf("counters %v, want %d accepted and confirmed", got, n)
	}

	// Every metric the shipped Grafana dashboard queries is served.
	dash, err := os.ReadFile("../grafana/oms-sim.json")
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &board); err != nil {
		t.Fatalf("grafana/oms-sim.json: %v", err)
	}
	queried := 0
	for _, p := range board.Panels {
		for _, tg := range p.Targets {
			for _, name := range regexp.MustCompile(`oms_[a-z0-9_]+`).FindAllString(tg.Expr, -1) {
				queried++
				if managementOnly(name) {
					continue // served only with the management API: TestBrokerSideFigures
				}
				if fams[strings.TrimSuffix(name, "_bucket")] == nil {
					t.Errorf("dashboard panel %q queries %s, which /metrics does not serve", p.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("the dashboard queries only %d metrics", queried)
	}

	// The protobuf exposition carries the native buckets.
	resp := scrape(string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	pb := map[string]*dto.MetricFamily{}
	for {
		var f dto.MetricFamily
		if err := dec.Decode(&f); err != nil {
			break
		}
		pb[f.GetName()] = &f
	}
	native := hist(pb, "oms_e2e_duration_seconds", nil)
	if native.GetSchema() == 0 && len(native.GetPositiveSpan()) == 0 {
		t.Errorf("no native buckets in the protobuf exposition: %+v", native)
	}
	if native.GetSampleCount() != n {
		t.Errorf("protobuf e2e count %d, want %d", native.GetSampleCount(), n)
	}
}

// managementOnly reports whether a metric is exported only while the
// management API answers (the broker's own view of the queues).
func managementOnly(name string) bool {
	for _, p := range []string{"oms_broker_queue_", "oms_broker_connections", "oms_broker_alarms"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
