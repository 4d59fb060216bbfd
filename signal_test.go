package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/internal/brokertest"
	"oms-sim/internal/syncbuf"
)

// workReady is the ready messages of the namespace's work queues, read
// on the broker.
func workReady(t *testing.T, conn broker.Conn, ns string) int {
	t.Helper()
	n := 0
	for _, s := range engine.StageNames {
		q, err := conn.Inspect(engine.Names{Namespace: ns}.Queue(s))
		if err != nil {
			t.Fatal(err)
		}
		n += q.Ready
	}
	return n
}

// snapshotOf reads a process's GET /api/snapshot.
func snapshotOf(t *testing.T, addr string) engine.Snapshot {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s engine.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// apiAddr waits for a process's "API on" line and returns the address.
func apiAddr(t *testing.T, stderr *syncbuf.Buffer) string {
	t.Helper()
	waitOutput(t, stderr, "API on http://")
	m := apiLine.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no API address:\n%s", stderr)
	}
	return m[1]
}

var leftLine = regexp.MustCompile(`second signal: exiting at once.*; (\d+) orders left in the broker .*safe there and finish on the next start`)

// TestSecondSignalExitsAtOnceAndTheNextStartFinishes runs a load against
// a slow email stage, so the queues hold orders, and sends SIGTERM twice:
// the process must exit at once (exit 1: not stopped cleanly) and say how
// many orders it leaves in the broker. They are safe there: a process
// started again on the same namespace works them off — the work queues
// drain to 0 and its email stage handles at least as many.
func TestSecondSignalExitsAtOnceAndTheNextStartFinishes(t *testing.T) {
	d := brokertest.Dialer(t)
	ns := cliNamespace(t)
	sc := writeFile(t, "slow.yaml", `
name: slow
stages:
  email: {workers: 1, prefetch: 10, service_time: {dist: constant, value: 20ms}}
phases: [{duration: 5m, rate: 300/s}]
`)
	cmd, _, stderr := startCLI(t, "--headless", "--http", "127.0.0.1:0", "--events", "memory", "--namespace", ns,
		"--scenario", sc, "--drain-timeout", "60s")
	waitOutput(t, stderr, "API on http://")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := d.Dial(ctx, "oms-test/"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(60 * time.Second)
	for workReady(t, conn, ns) < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("the email queue never held 200 orders:\n%s", stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the first signal is being handled: the drain begins
	second := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd)
	took := time.Since(second)
	t.Logf("exited %d %v after the second SIGTERM", code, took.Round(time.Millisecond))
	m := leftLine.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no line saying how many orders are left in the broker:\n%s", stderr)
	}
	left, _ := strconv.Atoi(m[1])
	if code != 1 || left == 0 || took > 5*time.Second {
		t.Errorf("second SIGTERM: exit %d after %v, %d orders said left; want exit 1 at once, a count > 0:\n%s", code, took, left, stderr)
	}
	inBroker := workReady(t, conn, ns)
	t.Logf("said %d left; the work queues hold %d ready once the process is gone", left, inBroker)
	if inBroker == 0 {
		t.Fatal("nothing left in the work queues: the test did not leave orders in the broker")
	}

	// The next start on the same namespace finishes them.
	next, _, nerr := startCLI(t, "--headless", "--http", "127.0.0.1:0", "--events", "memory", "--namespace", ns)
	nextAddr := apiAddr(t, nerr)
	defer func() {
		_ = next.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, next); code != 0 {
			t.Errorf("the restarted process exited %d:\n%s", code, nerr)
		}
	}()
	// Ready reaches 0 as soon as the new workers prefetch what is left,
	// long before they have handled it: wait for the work itself.
	// Orders left in the payment or inventory queue reach email too; half
	// is a floor that allows for the rest still on their way.
	emailed := func() int64 {
		for _, st := range snapshotOf(t, nextAddr).Stages {
			if st.Name == engine.StageEmail {
				return st.Handled
			}
		}
		return 0
	}
	deadline = time.Now().Add(90 * time.Second)
	for workReady(t, conn, ns) > 0 || emailed() < int64(inBroker)/2 {
		if time.Now().After(deadline) {
			t.Fatalf("90s after the restart the work queues hold %d ready and its email stage handled %d, with %d left in the work queues",
				workReady(t, conn, ns), emailed(), inBroker)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSIGTERMUnderLoadDrainsAndExits0 sends SIGTERM to a pipeline that a
// second process loads at 2 000 orders/s through its API: it must stop
// taking orders, finish what its workers hold, and exit 0 ("stopped
// cleanly") within the drain timeout.
func TestSIGTERMUnderLoadDrainsAndExits0(t *testing.T) {
	brokertest.Dialer(t)
	ns := cliNamespace(t)
	const drain = 20 * time.Second
	cmd, _, stderr := startCLI(t, "--headless", "--http", "127.0.0.1:0", "--events", "memory", "--namespace", ns,
		"--drain-timeout", drain.String())
	addr := apiAddr(t, stderr)
	sc := writeFile(t, "load.yaml", "name: load\nphases: [{duration: 5m, rate: 2000/s}]\n")
	loader, _, lerr := startCLI(t, "--headless", "--http", "127.0.0.1:0", "--events", "memory", "--namespace", ns,
		"--role", "none", "--target", "http://"+addr, "--scenario", sc, "--drain-timeout", "1s")
	defer func() {
		_ = loader.Process.Kill()
		t.Logf("loader:\n%s", lerr)
	}()
	time.Sleep(6 * time.Second)
	s := snapshotOf(t, addr)
	if s.Orders.Accepted == 0 {
		t.Fatalf("no order accepted under load:\n%s", stderr)
	}
	t.Logf("before SIGTERM: accepted %d at %.0f/s", s.Orders.Accepted, s.AcceptRate)

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd)
	took := time.Since(signalled)
	t.Logf("exited %d %v after SIGTERM (drain timeout %v)", code, took.Round(time.Millisecond), drain)
	if code != 0 || took > drain {
		t.Errorf("SIGTERM under load: exit %d after %v; want 0 within the drain timeout %v:\n%s", code, took, drain, stderr)
	}
	waitOutput(t, stderr, "stopped cleanly")
}
