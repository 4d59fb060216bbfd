package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"oms-sim/internal/syncbuf"
	"oms-sim/loadgen"
)

// TestAuditSurvivesKill9 splits the pipeline over three processes — the
// API, payment and the load generator in one, inventory and email in two
// others — and kills one back-end process with SIGKILL mid-run. Whatever
// it had in hand is redelivered to the other; the audit, which reads the
// event stream, must find every order ended and none lost, and count the
// work done again as redone, not as duplicated orders.
func TestAuditSurvivesKill9(t *testing.T) {
	requireStream(t)
	ns := cliNamespace(t)
	victim := startProcess(t, "--namespace", ns, "--role", "inventory,email", "--process", "back-1")
	startProcess(t, "--namespace", ns, "--role", "inventory,email", "--process", "back-2")

	sc := writeFile(t, "kill.yaml", `
name: kill
seed: 3
phases: [{duration: 12s, rate: 150/s}]
thresholds: [{metric: lost_orders, max: 0}]
`)
	rep := filepath.Join(t.TempDir(), "report.json")
	front := exec.Command(binary, "--headless", "--http", "127.0.0.1:0", "--events", "stream", "--namespace", ns,
		"--role", "api,payment", "--process", "front", "--scenario", sc, "--report", rep, "--drain-timeout", "60s")
	front.Env = cliEnv()
	var stderr syncbuf.Buffer
	front.Stderr = &stderr
	if err := front.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the load has run a while, so back-1 has orders in hand.
	time.Sleep(6 * time.Second)
	victim.kill(t)

	err := front.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	raw, rerr := os.ReadFile(rep)
	if rerr != nil {
		t.Fatalf("no report (%v); front exited %v:\n%s", rerr, err, stderr.String())
	}
	var r loadgen.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	a := r.Audit
	t.Logf("audit %+v", a)
	if a.Lost != 0 || a.Duplicated != 0 || a.Accepted == 0 ||
		a.Confirmed+a.PaymentFailed+a.Refunded+a.DeadLettered != a.Accepted {
		t.Errorf("audit after kill -9 of a back-end process: %+v; want every accepted order ended once, none lost", a)
	}
	if err != nil {
		t.Errorf("front exited %v, want 0:\n%s", err, stderr.String())
	}
}
