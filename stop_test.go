package main

import (
	"bufio"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"oms-sim/internal/brokertest"
	"oms-sim/internal/syncbuf"
)

// TestSIGTERMEndsWithinTheDrainTimeout starts oms-sim on a broker that
// then goes silent (a half-open connection: the fault proxy passes
// nothing and closes nothing) while a load runs, and sends SIGTERM: the
// process must end within --drain-timeout plus the stop grace, whatever
// the broker does — a stuck drain ends with the forced exit (1) and says
// so.
func TestSIGTERMEndsWithinTheDrainTimeout(t *testing.T) {
	brokertest.Dialer(t)
	proxy, viaProxy := brokertest.Proxy(t)
	ns := cliNamespace(t)
	sc := writeFile(t, "long.yaml", "name: long\nphases: [{duration: 5m, rate: 50/s}]\n")
	const drain = 2 * time.Second
	cmd := exec.Command(binary, "--headless", "--http", "127.0.0.1:0", "--events", "memory", "--amqp", viaProxy,
		"--namespace", ns, "--scenario", sc, "--drain-timeout", drain.String())
	cmd.Env = cliEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var out syncbuf.Buffer
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if !once && apiLine.MatchString(sc.Text()) {
				once = true
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(30 * time.Second):
		t.Fatalf("oms-sim did not come up:\n%s", out.String())
	}
	time.Sleep(2 * time.Second) // orders in flight
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"silent","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"silent-up","type":"timeout","stream":"upstream","attributes":{"timeout":0}}`)); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	limit := drain + stopGrace
	select {
	case err := <-done:
		took := time.Since(signalled)
		var ee *exec.ExitError
		code := 0
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		t.Logf("exited %d after %v (limit %v)", code, took.Round(time.Millisecond), limit)
		if took > limit+3*time.Second {
			t.Errorf("took %v after SIGTERM, want at most --drain-timeout %v + %v", took, drain, stopGrace)
		}
		if code == 1 && !strings.Contains(out.String(), "not stopped") {
			t.Errorf("exit 1 without saying why:\n%s", out.String())
		}
	case <-time.After(limit + 20*time.Second):
		t.Fatalf("still running %v after SIGTERM (limit %v):\n%s", time.Since(signalled), limit, out.String())
	}
}
