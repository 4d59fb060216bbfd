package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/streamlog"
	"oms-sim/internal/brokertest"
	"oms-sim/internal/telemetry"
)

// binary is the oms-sim built once for the CLI tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oms-sim-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "oms-sim")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cliEnv is the environment the binary runs in: this process's, without
// OMS_STATE_URL (CI sets it for the tests that use PostgreSQL; the binary
// would take it as --state's default, and every other run would switch
// to the shared state), then extra. A test that wants the variable
// passes it in extra.
func cliEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OMS_STATE_URL=") })
	return append(env, extra...)
}

// cli runs the binary and returns its exit code and output.
func cli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cliEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", "name: bad\nphases:\n  - {duration: 5x, rate: 10}\nwat: 1\n")
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag"},
		{"bad broker mode", []string{"--broker", "kafka", "--headless"}, "valid are auto, rabbitmq, embedded"},
		{"bad scenario file", []string{"validate", bad}, "bad.yaml:3:"},
		{"unknown scenario", []string{"--scenario", "no-such-scenario", "--headless"}, "no-such-scenario"},
		{"bad report extension", []string{"--scenario", "steady", "--report", "x.pdf", "--headless"}, "use .json, .md, .txt or .html"},
		{"bad driver", []string{"--scenario", "steady", "--driver", "grpc", "--headless"}, "valid are http, publish"},
		{"no in-flight sends", []string{"--scenario", "steady", "--max-inflight", "0", "--headless"}, "--max-inflight 0: must be 1 or more"},
		{"bad service time", []string{"--broker", "embedded", "--headless", "--payment-service-time", "gamma:1ms"}, "unknown distribution"},
		{"scenario without an API to send to", []string{"--scenario", "steady", "--role", "payment", "--headless"}, "add api to --role) or --target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", "name: bad\nphases:\n  - {duration: 5x, rate: 10}\nwat: 1\n")
	code, stdout, stderr := cli(t, nil, "validate", "steady", bad)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(stdout, "steady: ok") {
		t.Errorf("stdout %q, want the good file reported ok", stdout)
	}
	for _, want := range []string{"bad.yaml:3:", "duration", "rate", "bad.yaml:4:1", "wat"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q, want %q", stderr, want)
		}
	}
}

func TestScenariosListsShipped(t *testing.T) {
	t.Parallel()
	code, stdout, _ := cli(t, nil, "scenarios")
	for _, name := range []string{"steady", "burst", "ramp", "wave", "payment-outage", "out-of-stock", "slow-email", "consumer-crash", "soak", "max-throughput", "tour", "exactly-once"} {
		if !strings.Contains(stdout, name) {
			t.Errorf("scenarios output lacks %s", name)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestUnreachableBrokerExit3(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--broker", "rabbitmq", "--amqp", "amqp://guest:guest@127.0.0.1:1/", "--headless", "--http", "127.0.0.1:0"},
		// Named with --amqp: auto must not fall back to the embedded broker.
		{"--amqp", "amqp://guest:guest@127.0.0.1:1/", "--headless", "--http", "127.0.0.1:0"},
	} {
		code, _, stderr := cli(t, nil, args...)
		if code != exitUnreachable || !strings.Contains(stderr, "unreachable") {
			t.Errorf("%v: exit %d, stderr %q; want 3", args, code, stderr)
		}
	}
}

func TestScenarioExitCodes(t *testing.T) {
	t.Parallel()
	brokertest.Dialer(t) // skips without RabbitMQ
	dir := t.TempDir()
	ns := cliNamespace(t)
	pass := writeFile(t, "pass.yaml", "name: pass\nphases: [{duration: 1s, rate: 50/s}]\nthresholds: [{metric: lost_orders, max: 0}]\n")
	fail := writeFile(t, "fail.yaml", "name: fail\nphases: [{duration: 1s, rate: 50/s}]\nthresholds: [{metric: e2e_p50, max: 1us}]\n")
	report := filepath.Join(dir, "out.json")
	code, stdout, stderr := cli(t, nil, "--scenario", pass, "--headless", "--http", "127.0.0.1:0", "--report", report, "--namespace", ns)
	if code != 0 || !strings.Contains(stdout, "RESULT: PASSED") {
		t.Fatalf("passing scenario: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if data, err := os.ReadFile(report); err != nil || !strings.Contains(string(data), `"lost": 0`) {
		t.Errorf("report: %v %.300s", err, data)
	}
	code, stdout, _ = cli(t, nil, "--scenario", fail, "--headless", "--http", "127.0.0.1:0", "--driver", "publish", "--namespace", ns)
	if code != exitFailed || !strings.Contains(stdout, "RESULT: FAILED") {
		t.Fatalf("impossible threshold: exit %d, want 1\n%s", code, stdout)
	}
	// An action the engine refuses at run time (it passes validation:
	// 600 workers × prefetch 200 is over the engine's in-flight bound)
	// fails the run like a threshold.
	refused := writeFile(t, "refused.yaml", "name: refused\nstages: {email: {workers: 1, prefetch: 200}}\n"+
		"phases: [{duration: 1s, rate: 20/s}]\nactions: [{at: 100ms, scale: {stage: email, workers: 600}}]\n")
	code, stdout, stderr = cli(t, nil, "--scenario", refused, "--headless", "--http", "127.0.0.1:0", "--driver", "publish", "--namespace", ns)
	if code != exitFailed || !strings.Contains(stdout, "RESULT: FAILED (1 action refused)") ||
		!strings.Contains(stderr, "action at 100ms refused: email scaled to 600 workers") {
		t.Fatalf("refused action: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
}

// cliNamespace is a namespace for the processes a test starts; its queues,
// exchanges and event stream are deleted at cleanup.
func cliNamespace(t *testing.T) string {
	ns := brokertest.Namespace(t)
	t.Cleanup(func() {
		names := engine.Names{Namespace: ns}
		topo := names.Topology("classic", engine.DefaultRetryDelays)
		topo.Queues = append(topo.Queues, broker.Queue{Name: names.Of(streamlog.DefaultStream)}, broker.Queue{Name: names.Of(streamlog.DefaultRunStream)})
		brokertest.Delete(t, topo)
	})
	return ns
}

// TestStatusLineSaysWhatItKnows: the headless status line shows shedding,
// 503s by kind and a p99 that exists (never "0s" for "no data").
func TestStatusLineSaysWhatItKnows(t *testing.T) {
	s := engine.Snapshot{Time: time.Now()}
	s.Orders = engine.OrderCounts{Accepted: 10, Open: 10, Indeterminate: 3, Recovered: 2}
	s.API = engine.APIStats{Accepted: 10, Shed: 40, Unavailable: 3}
	s.Admission = engine.AdmissionStatus{MaxBacklog: 100, Backlog: 150, Shedding: true, Shed: 40}
	line := statusLine(s)
	for _, want := range []string{"recovered 2", "503: shed 40 unavailable 3", "SHEDDING (backlog 150 > 100)"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "e2e p99") {
		t.Errorf("no order has ended, yet the line shows a p99: %q", line)
	}
	s.E2E = telemetry.Percentiles{Count: 5, P99: 42 * time.Millisecond}
	if line := statusLine(s); !strings.Contains(line, "e2e p99 42ms (whole run; none ended lately)") {
		t.Errorf("status line %q: want the whole run's p99 when none ended lately", line)
	}
}
