package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL a run's state lives in, reached directly (not through
// the state layer): whether it answers, and dropping a run's schemas.

// pingPG connects to the database at rawURL and runs a query.
func pingPG(ctx context.Context, rawURL string) error {
	c, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return c.Ping(ctx)
}

// dropSchemas drops, with everything in them, the schemas whose names
// hold namespace ns — compared on letters and digits alone, without case,
// so that "chaos-1-split-kill-9-payment-pg" finds "oms_chaos_1_split_…"
// whatever mapping the state layer uses from namespace to schema.
func dropSchemas(ctx context.Context, rawURL, ns string) ([]string, error) {
	key := alnum(ns)
	if len(key) < 6 {
		return nil, fmt.Errorf("namespace %q is too short to match schemas by safely", ns)
	}
	c, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactPG(rawURL), err)
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

// redactPG hides the password of a PostgreSQL URL.
func redactPG(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
