package main

import (
	"errors"
	"oms-sim/internal/syncbuf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startCLI starts the binary; the test waits for it with waitExit (a
// cleanup kills it if the test ends first).
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *syncbuf.Buffer, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cliEnv()
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &stdout, &stderr
}

// waitOutput waits until out holds want; a loaded machine may take long.
func waitOutput(t *testing.T, out *syncbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output within 60s:\n%s", want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for the process and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// TestExitCodes is the exit-code table of every subcommand (DESIGN.md §8):
// 2 for usage or configuration (a bad URL included), 3 for a broker that
// does not answer. (0 and 1 of a run: TestScenarioExitCodes.)
func TestExitCodes(t *testing.T) {
	t.Parallel()
	const (
		down   = "amqp://guest:guest@127.0.0.1:1/"
		sdown  = "rabbitmq-stream://guest:guest@127.0.0.1:1/"
		badEsc = "amqp://u:p%zz@127.0.0.1:1/"
		badPrt = "amqp://u:pw@127.0.0.1:abc/"
	)
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"run: bad escape in --amqp", []string{"--amqp", badEsc, "--headless", "--http", "127.0.0.1:0"}, exitUsage, "--amqp amqp://u@127.0.0.1:1/: bad URL"},
		{"run: non-numeric port", []string{"--amqp", badPrt, "--headless", "--http", "127.0.0.1:0"}, exitUsage, "bad URL: the port is not a number"},
		{"run: wrong scheme", []string{"--amqp", "http://h/", "--headless", "--http", "127.0.0.1:0"}, exitUsage, `scheme "http", want amqp or amqps`},
		{"run: bad --stream-url", []string{"--stream-url", "rabbitmq-stream://u:p%zz@h/", "--headless", "--http", "127.0.0.1:0"}, exitUsage, "--stream-url"},
		{"run: bad --management-url", []string{"--management-url", "ftp://h/", "--headless", "--http", "127.0.0.1:0"}, exitUsage, "--management-url"},
		{"run: bad --target", []string{"--scenario", "steady", "--target", "localhost:5000", "--headless", "--http", "127.0.0.1:0"}, exitUsage, "--target"},
		{"run: unreachable", []string{"--amqp", down, "--headless", "--http", "127.0.0.1:0"}, exitUnreachable, "unreachable"},
		{"run: all interfaces without a token", []string{"--broker", "embedded", "--headless", "--http", ":0"}, exitUsage, "--admin-token"},
		{"run: short token", []string{"--broker", "embedded", "--headless", "--http", ":0", "--admin-token", "short"}, exitUsage, "at least 16"},
		{"bench: bad URL", []string{"bench", "--amqp", badEsc}, exitUsage, "bad URL"},
		{"bench: unreachable", []string{"bench", "--amqp", down, "--duration", "1s"}, exitUnreachable, "RabbitMQ"},
		{"bench: bad queue type", []string{"bench", "--queue-types", "kafka"}, exitUsage, "valid are classic, quorum, stream"},
		{"trace: bad URL", []string{"trace", "x", "--amqp", badPrt}, exitUsage, "bad URL"},
		{"trace: unreachable", []string{"trace", "x", "--amqp", down, "--stream-url", sdown}, exitUnreachable, ""},
		{"runs: bad URL", []string{"runs", "--stream-url", "rabbitmq-stream://u:p%zz@h/"}, exitUsage, "bad URL"},
		{"runs: unreachable", []string{"runs", "--amqp", down, "--stream-url", sdown}, exitUnreachable, ""},
		{"replay: bad URL", []string{"replay", "--run", "r", "--amqp", badEsc}, exitUsage, "bad URL"},
		{"replay: unreachable", []string{"replay", "--run", "r", "--amqp", down, "--stream-url", sdown}, exitUnreachable, ""},
		{"capacity: bad URL", []string{"capacity", "--slo", "e2e_p99<1s", "--amqp", badEsc}, exitUsage, "bad URL"},
		{"capacity: unreachable", []string{"capacity", "--slo", "e2e_p99<1s", "--amqp", down}, exitUnreachable, "unreachable"},
		{"capacity: non-loopback without a token", []string{"capacity", "--slo", "e2e_p99<1s", "--broker", "embedded", "--http", "0.0.0.0:0"}, exitUsage, "--admin-token"},
		{"validate: no file", []string{"validate", "/no/such/file.yaml"}, exitUsage, ""},
		{"scenarios: stray argument", []string{"scenarios", "x"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := cli(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.want)
			}
			for _, secret := range []string{"p%zz", ":pw@", "guest:guest"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output carries the password (%q):\n%s\n%s", secret, stdout, stderr)
				}
			}
		})
	}
}

// TestReportWriteFailurePrintsResult: a report that cannot be written
// after a finished run does not hide the run's result or its verdict.
func TestReportWriteFailurePrintsResult(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sc := writeFile(t, "s.yaml", "name: s\nphases: [{duration: 1s, rate: 20/s}]\nthresholds: [{metric: lost_orders, max: 0}]\n")
	report := filepath.Join(dir, "gone", "out.json")
	if err := os.Mkdir(filepath.Dir(report), 0o755); err != nil {
		t.Fatal(err)
	}
	// The directory exists at the start (the path is checked then) and is
	// gone at the end: remove it once the run prints its first progress.
	cmd, stdout, stderr := startCLI(t, "--broker", "embedded", "--scenario", sc, "--headless", "--http", "127.0.0.1:0", "--report", report, "--events", "memory")
	waitOutput(t, stderr, "API on http://")
	if err := os.Remove(filepath.Dir(report)); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd)
	if code != exitUsage || !strings.Contains(stdout.String(), "RESULT: PASSED") || !strings.Contains(stderr.String(), "the run passed") {
		t.Errorf("exit %d; want 2 after printing the passed result\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestLoopbackListen(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:0": true, "127.9.9.9:1": true, "[::1]:5000": true, "LOCALHOST:1": true,
		":5000": false, "0.0.0.0:5000": false, "[::]:5000": false, "10.0.0.1:5000": false, "example.com:80": false, "nonsense": false,
	} {
		if got := loopbackListen(addr); got != want {
			t.Errorf("loopbackListen(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestAdminTokenNotInHelp: --help never prints a token or a password
// from the environment.
func TestAdminTokenNotInHelp(t *testing.T) {
	t.Parallel()
	const tok = "env-token-0123456789abcdef"
	for _, args := range [][]string{{"--help"}, {"bench", "--help"}, {"trace", "--help"}, {"capacity", "--help"}, {"replay", "--help"}} {
		code, stdout, stderr := cli(t, []string{"OMS_ADMIN_TOKEN=" + tok, "OMS_AMQP_URL=amqp://u:" + marker + "@h:5672/"}, args...)
		if code != 0 || strings.Contains(stdout+stderr, tok) || strings.Contains(stdout+stderr, marker) {
			t.Errorf("%v: exit %d; want no token and no password from the environment\n%s", args, code, stdout)
		}
		if args[0] == "--help" && !strings.Contains(stdout, "--admin-token") {
			t.Errorf("--help does not document --admin-token")
		}
	}
}

// TestPrivateLogRefusesSymlink: the dashboard's default log in a shared
// directory is never opened through a symlink someone planted there.
func TestPrivateLogRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "oms-sim.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := openPrivateLog(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		if f != nil {
			f.Close()
		}
		t.Errorf("openPrivateLog through a symlink: %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(target); string(data) != "keep\n" {
		t.Errorf("the symlink's target changed: %q", data)
	}
	plain := filepath.Join(dir, "plain.log")
	f, err := openPrivateLog(plain)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(plain); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new log %v mode %v, want 0600", err, fi.Mode().Perm())
	}
}

// TestURLListsAreChecked: a comma-separated list of a cluster's nodes is
// checked URL by URL — good lists pass, a bad member fails naming itself
// without its password.
func TestURLListsAreChecked(t *testing.T) {
	if err := checkAMQP("amqp://u:p@h1:5681/,amqp://u:p@h2:5682/"); err != nil {
		t.Errorf("a list of good AMQP URLs: %v", err)
	}
	if err := checkStream("rabbitmq-stream://u:p@h1:5591/, rabbitmq-stream://u:p@h2:5592/"); err != nil {
		t.Errorf("a list of good stream URLs: %v", err)
	}
	err := checkAMQP("amqp://u:s3cret@h1:5681/,amqp://u:s3cret@h2:port/")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "h2") {
		t.Errorf("a list with a bad port: %v; want an error naming h2, without the password", err)
	}
}
