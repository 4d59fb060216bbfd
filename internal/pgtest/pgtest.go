// Package pgtest gives integration tests the real PostgreSQL that
// --state postgres://… uses: its URL (OMS_STATE_URL, or the local server
// scripts/postgres.sh up makes), skipping the test when none answers or
// failing it under OMS_REQUIRE_BROKER=1, and a namespace of the test's
// own whose schemas are dropped when the test ends. It never mocks the
// database. DropNamespace also serves tools that clean up after a run
// (bench/chaos).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable naming the PostgreSQL tests use, as for
// oms-sim's --state.
const EnvURL = "OMS_STATE_URL"

// DefaultURL is the database scripts/postgres.sh up creates, tried when
// OMS_STATE_URL is not set.
const DefaultURL = "postgres://oms:oms@localhost:5432/oms?sslmode=disable"

// pingTimeout bounds how long a test waits to learn whether PostgreSQL
// answers.
const pingTimeout = 5 * time.Second

// reach remembers, per URL, whether PostgreSQL answered: one attempt per
// test binary, not one per test.
var reach sync.Map // url → error (nil: it answered)

// URL returns the PostgreSQL for the test: OMS_STATE_URL, or DefaultURL
// when that is unset. When it does not answer the test is skipped, saying
// why — or, under OMS_REQUIRE_BROKER=1, failed: CI must not pass a test it
// did not run.
func URL(t testing.TB) string {
	t.Helper()
	u, fromEnv := os.Getenv(EnvURL), true
	if u == "" {
		u, fromEnv = DefaultURL, false
	}
	v, ok := reach.Load(u)
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		err := Ping(ctx, u)
		cancel()
		v, _ = reach.LoadOrStore(u, errBox{err})
	}
	if err := v.(errBox).err; err != nil {
		where := Redact(u)
		if !fromEnv {
			where += " (" + EnvURL + " is not set)"
		}
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no PostgreSQL at %s: %v (OMS_REQUIRE_BROKER=1; scripts/postgres.sh up, then eval \"$(scripts/postgres.sh env)\")", where, err)
		}
		t.Skipf("no PostgreSQL at %s: %v; skipping (scripts/postgres.sh up and set %s; OMS_REQUIRE_BROKER=1 fails instead)", where, err, EnvURL)
	}
	return u
}

// errBox lets a nil error sit in a sync.Map.
type errBox struct{ err error }

// Ping connects to the database at rawURL and runs a query.
func Ping(ctx context.Context, rawURL string) error {
	c, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return c.Ping(ctx)
}

// Namespace returns an oms-sim namespace (--namespace) no other test
// uses, and drops at cleanup every schema of the database at rawURL that
// oms-sim made for it. It is letters and digits only, so that it
// survives whatever mapping from namespace to schema name the state uses.
func Namespace(t testing.TB, rawURL string) string {
	t.Helper()
	ns := NewNamespace("pgt")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := DropNamespace(ctx, rawURL, ns); err != nil {
			t.Errorf("drop the schemas of namespace %s: %v", ns, err)
		}
	})
	return ns
}

// NewNamespace returns prefix followed by 12 random hex digits.
func NewNamespace(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return prefix + hex.EncodeToString(b[:])
}

// DropNamespace drops, with everything in them, the schemas of the
// database at rawURL whose names hold namespace ns: compared on letters
// and digits alone and without case, so "chaos-1-split" finds
// "oms_chaos_1_split". It returns the schemas dropped.
func DropNamespace(ctx context.Context, rawURL, ns string) ([]string, error) {
	key := alnum(ns)
	if len(key) < 6 {
		return nil, fmt.Errorf("namespace %q is too short to match schemas by safely", ns)
	}
	c, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", Redact(rawURL), err)
	}
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'`)
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	var dropped []string
	for _, n := range names {
		if !strings.Contains(alnum(n), key) {
			continue
		}
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{n}.Sanitize()+" CASCADE"); err != nil {
			return dropped, fmt.Errorf("drop schema %s: %w", n, err)
		}
		dropped = append(dropped, n)
	}
	return dropped, nil
}

// alnum keeps s's letters and digits, lower case.
func alnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Redact hides the password of a PostgreSQL URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
