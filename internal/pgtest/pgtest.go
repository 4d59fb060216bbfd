// Package pgtest gives integration tests the real PostgreSQL of the
// shared state (--state postgres://…): its URL, a check that it answers
// (skipping the test when it does not, or failing it when OMS_STATE_URL
// names it and OMS_REQUIRE_BROKER=1), stores in a schema of the test's
// own, dropped at cleanup.
package pgtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oms-sim/engine/pgstate"
	"oms-sim/internal/brokertest"
)

// LocalURL is the database tried when OMS_STATE_URL is not set: the
// machine's PostgreSQL with trust authentication.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres"

// URL returns the database tests use: OMS_STATE_URL, else LocalURL.
func URL() string {
	if u := os.Getenv("OMS_STATE_URL"); u != "" && u != "memory" {
		return u
	}
	return LocalURL
}

// Require returns URL() once it answers. When it does not, the test is
// skipped, or failed when OMS_STATE_URL names the database and
// OMS_REQUIRE_BROKER=1 (CI said it must be there).
func Require(t testing.TB) string {
	t.Helper()
	u := URL()
	if err := Ping(u); err != nil {
		named := os.Getenv("OMS_STATE_URL") != ""
		if named && os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no PostgreSQL at %s: %v (OMS_STATE_URL set and OMS_REQUIRE_BROKER=1)", pgstate.Redact(u), err)
		}
		how := "set OMS_STATE_URL (scripts/postgres.sh env) and OMS_REQUIRE_BROKER=1 to fail instead"
		if named {
			how = "set OMS_REQUIRE_BROKER=1 to fail instead"
		}
		t.Skipf("no PostgreSQL at %s: %v; skipping (%s)", pgstate.Redact(u), err, how)
	}
	return u
}

// Ping connects to u once, within two seconds.
func Ping(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// Namespace returns a namespace unique to the test (as brokertest's, so
// one name serves the broker and the state).
func Namespace(t testing.TB) string {
	return fmt.Sprintf("test-%s-%06d", brokertest.SafeName(t), rand.IntN(1_000_000))
}

// Open opens a store on the test database in namespace's schema and
// drops the schema at cleanup (after the store is closed).
func Open(t testing.TB, namespace string) *pgstate.Store {
	t.Helper()
	u := Require(t)
	s, err := pgstate.Open(context.Background(), u, pgstate.Options{Namespace: namespace})
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	DropAtCleanup(t, namespace)
	t.Cleanup(s.Close)
	return s
}

// DropAtCleanup drops namespace's schema when the test ends.
func DropAtCleanup(t testing.TB, namespace string) {
	t.Cleanup(func() { Drop(t, namespace) })
}

// Drop drops namespace's schema now, logging (not failing) on trouble.
func Drop(t testing.TB, namespace string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Logf("drop schema: %v", err)
		return
	}
	defer conn.Close(ctx)
	schema := pgstate.SchemaName(namespace)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}
