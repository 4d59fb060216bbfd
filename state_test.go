package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"oms-sim/engine"
	"oms-sim/engine/pgstate"
	"oms-sim/internal/pgtest"
)

// TestStateExitCodes: a --state (or OMS_STATE_URL) that is not memory or
// a postgres:// URL is a usage error (exit 2); a database that does not
// answer is exit 3 naming host:port; no output carries the password.
func TestStateExitCodes(t *testing.T) {
	t.Parallel()
	const pw = "s3cretpw"
	run := []string{"--broker", "embedded", "--headless", "--http", "127.0.0.1:0"}
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string // in stderr
	}{
		{"wrong scheme", nil, append([]string{"--state", "mysql://u:" + pw + "@h/db"}, run...), exitUsage, "want memory or a postgres://"},
		{"a word", nil, append([]string{"--state", "postgress"}, run...), exitUsage, "--state postgress: bad URL"},
		{"bad port", nil, append([]string{"--state", "postgres://u:" + pw + "@127.0.0.1:abc/db"}, run...), exitUsage, "the port is not a number"},
		{"bad escape", nil, append([]string{"--state", "postgres://u:p%zz@127.0.0.1/db"}, run...), exitUsage, "bad URL"},
		{"bad setting", nil, append([]string{"--state", "postgres://u:" + pw + "@127.0.0.1:5432/db?sslmode=bogus"}, run...), exitUsage, "--state postgres://u@127.0.0.1:5432/db?sslmode=bogus: bad URL"},
		{"bad env", []string{"OMS_STATE_URL=mysql://u:" + pw + "@h/db"}, run, exitUsage, "--state (OMS_STATE_URL)"},
		{"unreachable", nil, append([]string{"--state", "postgres://u:" + pw + "@127.0.0.1:1/db"}, run...), exitUnreachable, "PostgreSQL at 127.0.0.1:1"},
		{"unreachable from env", []string{"OMS_STATE_URL=postgres://u:" + pw + "@127.0.0.1:1/db"}, run, exitUnreachable, "state database unreachable"},
		{"capacity: unreachable", nil, []string{"capacity", "--slo", "e2e_p99<1s", "--broker", "embedded", "--state", "postgres://u:" + pw + "@127.0.0.1:1/db"}, exitUnreachable, "127.0.0.1:1"},
		{"capacity: bad URL", nil, []string{"capacity", "--slo", "e2e_p99<1s", "--broker", "embedded", "--state", "postgres://u:" + pw + "@h:0/db"}, exitUsage, "bad URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := cli(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.want)
			}
			for _, secret := range []string{pw, "p%zz"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output carries the password (%q):\n%s\n%s", secret, stdout, stderr)
				}
			}
		})
	}
}

// TestStateInHelp: --help documents --state and OMS_STATE_URL, and shows
// a default from the environment without its password.
func TestStateInHelp(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := cli(t, []string{"OMS_STATE_URL=postgres://oms:s3cretpw@127.0.0.1:5432/oms"}, "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"--state", "OMS_STATE_URL", "postgres://oms@127.0.0.1:5432/oms"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if strings.Contains(stdout+stderr, "s3cretpw") {
		t.Errorf("--help shows the password from OMS_STATE_URL")
	}
}

// TestStateStartsOnPostgres: --state with a database that answers starts
// the pipeline on it (the startup line says where, without a password),
// seeds the namespace's schema, and stops cleanly on a signal.
func TestStateStartsOnPostgres(t *testing.T) {
	t.Parallel()
	u := pgtest.Require(t)
	ns := pgtest.Namespace(t)
	pgtest.DropAtCleanup(t, ns)
	cmd, _, stderr := startCLI(t, "--broker", "embedded", "--state", u, "--namespace", ns, "--headless", "--http", "127.0.0.1:0")
	waitOutput(t, stderr, "state postgres ")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	// A short password (scripts/postgres.sh's is "oms", as are the user,
	// the database and the schema's prefix) is looked for only in the
	// forms a URL or a connection string would show it; a distinctive
	// one anywhere (FuzzNoSecretInOutput tries many).
	if pw := pgstate.Password(u); pw != "" {
		out := stderr.String()
		if strings.Contains(out, ":"+pw+"@") || strings.Contains(out, "password="+pw) || (len(pw) >= 6 && strings.Contains(out, pw)) {
			t.Errorf("the output carries the password:\n%s", out)
		}
	}
	st, err := pgstate.Open(context.Background(), u, pgstate.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.Stock(context.Background())
	if err != nil || len(list) != engine.DefaultProducts {
		t.Errorf("stock in schema %s: %d products, %v; want the catalog's %d", st.Schema(), len(list), err, engine.DefaultProducts)
	}
}
