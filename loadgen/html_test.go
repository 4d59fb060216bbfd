package loadgen

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/telemetry"
)

// sampleReport is a finished run's report with a series, built by hand.
func sampleReport() *Report {
	rep := &Report{
		Version: ReportVersion, Scenario: "burst </script><b>", RunID: "run-1", Seed: 42, Driver: "http",
		Broker:    Broker{Kind: "rabbitmq", URL: "amqp://guest@localhost:5672/", QueueType: "classic", Persistent: true, Connections: "per-stage"},
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), DurationMs: 6000, DrainMs: 120,
		Phases: []PhaseReport{{Name: "warm-up", DurationMs: 3000, TargetRate: 50, Expected: 150, Sent: 150, SentInPhase: 150,
			Accepted: 150, AcceptedInPhase: 150, SentRate: 50, AchievedRate: 50, Ratio: 1},
			{Name: "burst", DurationMs: 3000, TargetRate: 200, Expected: 600, Sent: 600, SentInPhase: 590, Accepted: 600,
				AcceptedInPhase: 590, SentRate: 196.7, AchievedRate: 196.7, Ratio: 0.983}},
		Stages: []StageReport{{Name: "payment", Workers: 2, Handled: 750, PeakUtilisation: 0.8, QueueWait: telemetry.Millis{Count: 750, P50: 0.4, P99: 12}},
			{Name: "inventory", Workers: 2, Handled: 740}, {Name: "email", Workers: 2, Handled: 740}},
		E2E:   telemetry.Millis{Count: 750, P50: 4, P90: 9, P99: 30, P999: 41, Max: 44},
		Sent:  750,
		Audit: Audit{Accepted: 750, Confirmed: 740, PaymentFailed: 10},
		Thresholds: []ThresholdResult{{Threshold: "e2e_p99 ≤ 500ms", Metric: "e2e_p99", Observed: 30, Display: "30ms", Pass: true},
			{Threshold: "lost_orders ≤ 0", Metric: "lost_orders", Observed: 0, Display: "0", Pass: true}},
		Passed:       true,
		ScenarioYAML: "name: burst\nphases: [{name: a, duration: 1s, rate: 1/s}]\n",
	}
	s := &Series{IntervalMs: 1000, Stages: []string{"payment", "inventory", "email"},
		Phases:  []PhaseSpan{{Name: "warm-up", Start: 0, End: 3}, {Name: "burst", Start: 3, End: 6}},
		Markers: []Marker{{T: 4.02, Kind: MarkerAction, Text: "payment scaled to 8 workers <&>"}}}
	for i := 1; i <= 6; i++ {
		rate, unacked := 50.0, 2*i
		if i > 3 {
			rate = 200
		}
		s.Points = append(s.Points, SeriesPoint{T: float64(i), Offered: rate, Sent: rate, Accepted: rate - 1, Completed: rate - 2,
			E2EP50: 4, E2EP99: float64(10 * i), InFlight: int64(i), Stages: []StagePoint{
				{Ready: i * 3, WaitP99: 1.5, ServiceP99: 2, Utilisation: rate / 250, Workers: 2, BrokerUnacked: &unacked}, {Workers: 2}, {Workers: 2}},
			Broker: &BrokerPoint{Flow: i % 2}})
	}
	rep.Series = s
	return rep
}

// externalRef finds anything in a page that would reach the network:
// a src or href to a URL, a url(...) in CSS, fetch, XMLHttpRequest,
// an import, a WebSocket or a <link>/<iframe>/<img> element.
var externalRef = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:|//)|url\(\s*["']?\s*(https?:|//)|\bfetch\s*\(|XMLHttpRequest|\bimport\s*\(|\bimport\s+[\w{*]|new\s+WebSocket|<link\b|<iframe\b|<img\b|@import`)

// TestHTMLReportIsSelfContained checks the page makes no request of its
// own and carries the report's data, which round-trips exactly.
func TestHTMLReportIsSelfContained(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if m := externalRef.FindAllString(page, -1); len(m) > 0 {
		t.Errorf("the page refers outside itself: %q", m)
	}
	for _, want := range []string{"<title>oms-sim report: burst &lt;/script&gt;&lt;b&gt;</title>", "PASSED", "e2e_p99 ≤ 500ms",
		"warm-up", "payment", "var uPlot=", ".uplot"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The scenario name's </script> must not end a script element early.
	if n := strings.Count(strings.ToLower(page), "</script>"); n != 3 {
		t.Errorf("%d </script> in the page, want 3 (data, uPlot, charts)", n)
	}
	data, err := ReportFromHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	var got *Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Errorf("the page's data does not round-trip:\n got %+v\nwant %+v", got, rep)
	}
}

// TestHTMLReportAuditHasEveryCategory: the page's audit table has the
// columns the other formats have, redone included, and names the orders
// behind lost, duplicated and redone.
func TestHTMLReportAuditHasEveryCategory(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	rep.Audit = Audit{Accepted: 9, Confirmed: 6, Lost: 1, Duplicated: 1, Redone: 2, Recovered: 3, Orphaned: 4,
		LostIDs: []string{"lost-1"}, DuplicatedIDs: []string{"dup-1"}, RedoneIDs: []string{"redo-1", "redo-2"}}
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(page, "<h2>Audit</h2>")
	j := strings.Index(page, "<h2>Ledger</h2>")
	if i < 0 || j < i {
		t.Fatal("no audit section")
	}
	audit := page[i:j]
	cell := regexp.MustCompile(`<t[hd][^>]*>([^<]*)</t[hd]>`)
	var cells []string
	for _, m := range cell.FindAllStringSubmatch(audit, -1) {
		cells = append(cells, m[1])
	}
	want := []string{"accepted", "confirmed", "payment_failed", "refunded", "dead_lettered", "lost", "duplicated", "redone", "recovered", "orphaned",
		"9", "6", "0", "0", "0", "1", "1", "2", "3", "4"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("audit table cells %q, want %q", cells, want)
	}
	for _, id := range []string{"lost-1", "dup-1", "redo-1, redo-2"} {
		if !strings.Contains(audit, id) {
			t.Errorf("the audit does not name %s", id)
		}
	}
}

// TestHTMLReportRendersInChromium loads the page in headless Chromium
// with the network off and checks that every chart was drawn: the
// script ran to its end and uPlot made a canvas per chart.
func TestHTMLReportRendersInChromium(t *testing.T) {
	t.Parallel()
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium or chromium-browser on PATH: the HTML report's rendering is not checked (apt-get install -y chromium)")
	}
	page, err := sampleReport().HTML()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		// No network at all: a request the page made would fail, and
		// with it a chart.
		"--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--window-size=1200,2400", "--virtual-time-budget=5000", "--dump-dom", "file://"+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	if !strings.Contains(dom, `data-charts="7"`) {
		t.Fatalf("the page did not draw its 7 charts; DOM:\n%.3000s", dom)
	}
	if n := strings.Count(dom, "<canvas"); n != 7 {
		t.Errorf("%d canvases, want 7 (one per chart; the broker's unacked among them)", n)
	}
	if !strings.Contains(dom, "Unacked per queue across every consumer") {
		t.Error("no chart of the broker's unacked")
	}
	if !strings.Contains(dom, "payment scaled to 8 workers") {
		t.Error("the action marker is not listed")
	}
}

func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
