package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/streamlog"
	"oms-sim/internal/brokertest"
)

// requireStream skips (or fails under OMS_REQUIRE_BROKER=1) without the
// stream protocol.
func requireStream(t *testing.T) {
	t.Helper()
	brokertest.Dialer(t)
	u := streamURLFor(brokertest.URL())
	if err := streamlog.Ping(context.Background(), u); err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no stream protocol at %s: %v (OMS_REQUIRE_BROKER=1)", broker.Redact(u), err)
		}
		t.Skipf("no stream protocol at %s: %v (rabbitmq-plugins enable rabbitmq_stream)", broker.Redact(u), err)
	}
}

// process is one oms-sim started by a test.
type process struct {
	cmd    *exec.Cmd
	addr   string
	killed atomic.Bool
}

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill(t *testing.T) {
	t.Helper()
	p.killed.Store(true)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
}

var apiLine = regexp.MustCompile(`API on http://(\S+)`)

// startProcess starts the binary headless and waits until its API listens.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--headless", "--http", "127.0.0.1:0", "--events", "stream"}, args...)...)
	cmd.Env = cliEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil && !p.killed.Load() {
				t.Errorf("%v exited: %v", args, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%v did not stop within 15s of SIGINT", args)
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := apiLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case p.addr = <-found:
	case <-time.After(20 * time.Second):
		t.Fatalf("%v: API did not come up", args)
	}
	return p
}

func getOrder(t *testing.T, addr, id string) (engine.OrderRecord, bool) {
	resp, err := http.Get("http://" + addr + "/api/orders/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec engine.OrderRecord
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&rec) != nil {
		return rec, false
	}
	return rec, true
}

// TestPipelineAcrossProcesses runs the pipeline split over two processes
// with a third watching, all sharing one broker and one event stream.
func TestPipelineAcrossProcesses(t *testing.T) {
	requireStream(t)
	ns := cliNamespace(t)
	front := startProcess(t, "--namespace", ns, "--role", "api,payment", "--process", "front")
	startProcess(t, "--namespace", ns, "--role", "inventory,email", "--process", "back")
	watch := startProcess(t, "--namespace", ns, "--role", "none", "--process", "watcher")

	resp, err := http.Post("http://"+front.addr+"/api/orders", "application/json", strings.NewReader(`{"product_id": 3, "quantity": 1, "user_id": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	var placed struct {
		OrderID string `json:"order_id"`
	}
	json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST = %d", resp.StatusCode)
	}

	// The watcher, which runs no stage, sees the whole timeline. The
	// front's accepted event (logged after the broker's confirm, which no
	// worker waits for) may reach the stream up to a batch linger after the
	// back's confirmed: wait for the status and the whole timeline.
	var rec engine.OrderRecord
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		rec, ok = getOrder(t, watch.addr, placed.OrderID)
		if ok && rec.Status == engine.StatusConfirmed && len(rec.Events) >= 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watcher: order %s is %q, want confirmed (events %+v)", placed.OrderID, rec.Status, rec.Events)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := []struct{ event, process string }{
		{engine.EventAccepted, "front"}, {engine.EventPaymentStarted, "front"}, {engine.EventPaid, "front"},
		{engine.EventInventoryStarted, "back"}, {engine.EventStockTaken, "back"},
		{engine.EventEmailStarted, "back"}, {engine.EventConfirmed, "back"},
	}
	if len(rec.Events) != len(want) {
		t.Fatalf("watcher sees %d events, want %d: %+v", len(rec.Events), len(want), rec.Events)
	}
	for i, w := range want {
		if ev := rec.Events[i]; ev.Type != w.event || ev.Process != w.process {
			t.Errorf("event %d = %s from %s, want %s from %s", i, ev.Type, ev.Process, w.event, w.process)
		}
	}
	// Its stage panel has the other processes' figures: every stage
	// remote, each with the one order handled and its worker counted.
	resp, err = http.Get("http://" + watch.addr + "/api/stages")
	if err != nil {
		t.Fatal(err)
	}
	var stages []engine.StageSnapshot
	if err := json.NewDecoder(resp.Body).Decode(&stages); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(stages) != len(engine.StageNames) {
		t.Fatalf("watcher: %d stages, want %d", len(stages), len(engine.StageNames))
	}
	for _, s := range stages {
		if !s.Remote || s.OK != 1 || s.Service.Count != 1 || s.QueueWait.Count != 1 || s.Running < 1 {
			t.Errorf("watcher's %s: remote %v ok %d, %d service times, %d waits, %d running; want remote, 1, 1, 1, ≥ 1",
				s.Name, s.Remote, s.OK, s.Service.Count, s.QueueWait.Count, s.Running)
		}
	}

	// So does the front process, which did not run inventory or email.
	if r, ok := getOrder(t, front.addr, placed.OrderID); !ok || r.Status != engine.StatusConfirmed {
		t.Errorf("front process sees status %q", r.Status)
	}

	// And `oms-sim trace` reads the same from the stream, in order.
	code, out, stderr := cli(t, nil, "trace", placed.OrderID, "--namespace", ns)
	if code != 0 {
		t.Fatalf("trace: exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("trace wrote to stderr (the clients' own log lines belong to --log-level debug):\n%s", stderr)
	}
	// One row per event: OFFSET TIME EVENT STAGE WORKER PROCESS DETAIL.
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 6 && strings.HasPrefix(f[0], "+") {
			rows = append(rows, f)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("trace shows %d events, want %d:\n%s", len(rows), len(want), out)
	}
	for i, w := range want {
		if rows[i][2] != w.event || rows[i][5] != w.process {
			t.Errorf("trace row %d = %s from %s, want %s from %s", i, rows[i][2], rows[i][5], w.event, w.process)
		}
	}

	// A process started after the order ended never saw its events: its
	// API reads them from the stream, around the order id's time.
	late := startProcess(t, "--namespace", ns, "--role", "none", "--process", "late")
	if r, ok := getOrder(t, late.addr, placed.OrderID); !ok || r.Status != engine.StatusConfirmed || len(r.Events) != len(want) {
		t.Errorf("late process: GET /api/orders/%s = %q with %d events (found %v), want confirmed with %d", placed.OrderID, r.Status, len(r.Events), ok, len(want))
	}
}

// TestRecordAndReplayThroughTheStream records a run in the event stream and
// replays it from there with the CLI: the same orders, at twice the speed,
// with the recorded scenario re-applied — its catalog of 300 products (the
// default has 50, so orders for the others would be dead-lettered as
// unknown products), its decline rate and its seed.
func TestRecordAndReplayThroughTheStream(t *testing.T) {
	requireStream(t)
	ns := cliNamespace(t)
	sc := writeFile(t, "rec.yaml", "name: rec\nseed: 4\ncatalog: {products: 300, stock: 100000}\nstages: {payment: {decline_rate: 0.2}}\n"+
		"orders: {product: {dist: uniform}}\nphases: [{duration: 2s, rate: 100/s, arrivals: poisson}]\n")
	dir := t.TempDir()
	first, second := dir+"/first.json", dir+"/second.json"
	common := []string{"--headless", "--http", "127.0.0.1:0", "--namespace", ns, "--events", "stream", "--driver", "publish"}
	if code, out, errOut := cli(t, nil, append([]string{"--scenario", sc, "--report", first}, common...)...); code != 0 {
		t.Fatalf("recording run: exit %d\n%s\n%s", code, out, errOut)
	}
	var rec struct {
		RunID string                   `json:"run_id"`
		Sent  int64                    `json:"sent"`
		Audit struct{ Accepted int64 } `json:"audit"`
	}
	readJSON(t, first, &rec)

	code, out, errOut := cli(t, nil, "runs", "--namespace", ns)
	if code != 0 || !strings.Contains(out, rec.RunID) || !strings.Contains(out, "rec") {
		t.Fatalf("runs: exit %d, output lacks run %s:\n%s", code, rec.RunID, out)
	}
	// From the run stream, without a word on stderr (no fallback to the
	// event stream, no client log lines).
	if errOut != "" {
		t.Errorf("runs wrote to stderr:\n%s", errOut)
	}
	if code, out, errOut := cli(t, nil, append([]string{"replay", "--run", rec.RunID, "--speed", "2x", "--report", second}, common...)...); code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		Scenario   string  `json:"scenario"`
		Seed       uint64  `json:"seed"`
		Sent       int64   `json:"sent"`
		DurationMs float64 `json:"duration_ms"`
		Audit      struct {
			Accepted, Lost int64
			DeadLettered   int64 `json:"dead_lettered"`
			PaymentFailed  int64 `json:"payment_failed"`
		}
	}
	readJSON(t, second, &rep)
	if rep.Sent != rec.Sent || rep.Audit.Accepted != rec.Audit.Accepted || rep.Audit.Lost != 0 {
		t.Fatalf("replay sent %d accepted %d lost %d; the recording sent %d accepted %d", rep.Sent, rep.Audit.Accepted, rep.Audit.Lost, rec.Sent, rec.Audit.Accepted)
	}
	if rep.Audit.DeadLettered != 0 || rep.Audit.PaymentFailed == 0 || rep.Seed != 4 {
		t.Errorf("replay dead-lettered %d, declined %d, seed %d: the recorded catalog (300 products), decline rate 0.2 and seed 4 were not re-applied",
			rep.Audit.DeadLettered, rep.Audit.PaymentFailed, rep.Seed)
	}
	if !strings.HasPrefix(rep.Scenario, "replay of rec") || rep.DurationMs > 1500 {
		t.Errorf("replay %q took %.0fms; want about 1s for a 2s recording at 2x", rep.Scenario, rep.DurationMs)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
