package pgtest

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestNamespaceDropsItsSchemas: the schemas oms-sim would make for a
// test's namespace (whatever separators its mapping uses) go when the
// test ends; a schema of another namespace stays.
func TestNamespaceDropsItsSchemas(t *testing.T) {
	u := URL(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	other := NewNamespace("pgtother")
	// Deferred after Close, so it runs first, on the open connection.
	defer func() {
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{other}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop %s: %v", other, err)
		}
	}()
	var mine []string
	t.Run("inner", func(t *testing.T) {
		ns := Namespace(t, u)
		mine = []string{"oms_" + ns, ns + "_state", "OMS-" + ns[:3] + "-" + ns[3:]}
		for _, s := range append(slices.Clone(mine), other) {
			if _, err := c.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s}.Sanitize()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "CREATE TABLE "+pgx.Identifier{s, "t"}.Sanitize()+" (id int)"); err != nil {
				t.Fatal(err)
			}
		}
	})
	exists := func(s string) bool {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	for _, s := range mine {
		if exists(s) {
			t.Errorf("schema %s outlived its test", s)
		}
	}
	if !exists(other) {
		t.Errorf("schema %s of another namespace was dropped", other)
	}
}

func TestDropNamespaceRefusesAShortKey(t *testing.T) {
	t.Parallel()
	if _, err := DropNamespace(context.Background(), DefaultURL, "a-b"); err == nil {
		t.Fatal("a namespace of 2 letters would match too much; want an error")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	if got := Redact("postgres://oms:secret@localhost:5432/oms"); got != "postgres://oms:xxxxx@localhost:5432/oms" {
		t.Errorf("Redact = %q", got)
	}
}
