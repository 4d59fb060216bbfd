// Package pgstate keeps an oms-sim pipeline's domain state in PostgreSQL
// (--state postgres://…, issue 17), shared by every process of the
// pipeline and kept across restarts: charges and refunds (one per order,
// by the schema), stock (taken with one conditional update, never below
// zero) and restocks, the inbox of handled messages whose outcome is
// written in the same transaction as the effect, and the API's
// Idempotency-Keys. It implements engine.State; the engine never imports
// it (main opens it and hands it to engine.New).
//
// Each namespace has a schema of its own (SchemaName), created and
// migrated by Open from the SQL embedded in migrations/, versioned in
// the schema's schema_migrations table, under an advisory lock so that
// processes starting together do not race.
package pgstate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"oms-sim/engine"
)

// Defaults.
const (
	// DefaultMaxConns is the pool's size unless the URL says otherwise
	// (pool_max_conns=N): each stage worker holds a connection for the
	// whole handling of a message (its inbox transaction), so the pool
	// should have room for every worker of the process and the API.
	DefaultMaxConns = 32
	// APIConns is the size of the second pool, for the API and the
	// readers (Idempotency-Keys, stock reads, restocks, the ledger): a
	// flood of orders waiting for a key must not queue ahead of the stage
	// workers for a connection (a bulkhead).
	APIConns = 8
	// DefaultConnectTimeout bounds Open's first connection.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultInboxRetention is how long the inbox remembers a handled
	// message: Prepare forgets older ones. Redeliveries come within
	// seconds or, after a long outage, hours.
	DefaultInboxRetention = 7 * 24 * time.Hour
	// DefaultPruneEvery is how often a Store forgets expired keys, keys
	// beyond MaxKeys and inbox rows past their retention.
	DefaultPruneEvery = time.Minute
)

// Options configures Open.
type Options struct {
	// Flag names the setting in messages ("--state").
	Flag string
	// Namespace selects the schema (SchemaName).
	Namespace string
	// KeyTTL is how long an Idempotency-Key is kept (default
	// engine.DefaultIdempotencyTTL).
	KeyTTL time.Duration
	// MaxKeys bounds the Idempotency-Keys kept (the newest MaxKeys, give
	// or take keys created in the same microsecond); 0: only KeyTTL does.
	MaxKeys int
	// PruneEvery is how often the store prunes keys and the inbox
	// (default DefaultPruneEvery); every process of a pipeline prunes.
	PruneEvery time.Duration
	// InboxRetention is how long handled messages are remembered
	// (default DefaultInboxRetention).
	InboxRetention time.Duration
	// ConnectTimeout bounds the first connection (default
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.Flag == "" {
		o.Flag = "--state"
	}
	if o.KeyTTL <= 0 {
		o.KeyTTL = engine.DefaultIdempotencyTTL
	}
	if o.InboxRetention <= 0 {
		o.InboxRetention = DefaultInboxRetention
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = DefaultPruneEvery
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
}

// Store is the state in PostgreSQL. Create it with Open; Close it after
// the engine.
type Store struct {
	pool   *pgxpool.Pool // the stages' (inbox transactions and their writes)
	api    *pgxpool.Pool // the API's and the readers' (APIConns)
	opt    Options
	schema string
	desc   string
	pw     string // to scrub from driver errors
	// prices is the catalog, index product id − 1, read by Prepare;
	// read-only afterwards.
	prices atomic.Pointer[[]int64]
	keys   *keyStore
	// The pruner runs under ctx; Close cancels it and waits for done.
	stop   context.CancelFunc
	done   chan struct{}
	closed sync.Once
}

var (
	_ engine.State         = (*Store)(nil)
	_ engine.Inbox         = (*Store)(nil)
	_ engine.LedgerChecker = (*Store)(nil)
)

// Open connects to the database raw names, creates the namespace's
// schema and migrates it. A bad URL gives an error wrapping ErrBadURL
// (exit 2); a database that does not answer, or refuses the user, one
// wrapping engine.ErrStateUnreachable (exit 3). No error carries the
// password.
func Open(ctx context.Context, raw string, opt Options) (*Store, error) {
	opt.setDefaults()
	cfg, err := ParseURL(opt.Flag, raw)
	if err != nil {
		return nil, err
	}
	schema := SchemaName(opt.Namespace)
	if !strings.Contains(raw, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "oms-sim"
	}
	cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	s := &Store{opt: opt, schema: schema, pw: cfg.ConnConfig.Password}
	where := net.JoinHostPort(cfg.ConnConfig.Host, fmt.Sprint(cfg.ConnConfig.Port))
	s.desc = fmt.Sprintf("postgres %s@%s/%s schema %s", cfg.ConnConfig.User, where, cfg.ConnConfig.Database, schema)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", opt.Flag, Redact(raw), s.scrub(err))
	}
	s.pool = pool
	acfg := cfg.Copy()
	acfg.MaxConns = APIConns
	if s.api, err = pgxpool.NewWithConfig(ctx, acfg); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s %s: %s", opt.Flag, Redact(raw), s.scrub(err))
	}
	pctx, cancel := context.WithTimeout(ctx, opt.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: PostgreSQL at %s (database %s, user %s) did not let us in: %s (is it running? scripts/postgres.sh up)",
			engine.ErrStateUnreachable, where, cfg.ConnConfig.Database, cfg.ConnConfig.User, s.scrub(err))
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: migrate schema %s: %s", s.desc, schema, s.scrub(err))
	}
	s.keys = &keyStore{s: s}
	pctx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.pruneLoop(pctx)
	return s, nil
}

// pruneLoop prunes every PruneEvery until ctx (Close) ends, which also
// cuts short a prune in progress. A failed prune is tried again at the
// next tick: pruning only bounds the tables, the keys' and the inbox's
// answers do not depend on it.
func (s *Store) pruneLoop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opt.PruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, s.opt.PruneEvery)
			_, _, _ = s.Prune(pctx)
			cancel()
		}
	}
}

// Prune forgets the Idempotency-Keys older than KeyTTL and, with
// MaxKeys, all but the newest MaxKeys, and the inbox rows older than
// InboxRetention. It returns how many keys and inbox rows it deleted.
func (s *Store) Prune(ctx context.Context) (keys, inbox int64, err error) {
	tag, err := s.api.Exec(ctx, `DELETE FROM inbox WHERE at < now() - make_interval(secs => $1)`, s.opt.InboxRetention.Seconds())
	if err != nil {
		return 0, 0, s.unreachable("prune the inbox", err)
	}
	inbox = tag.RowsAffected()
	if tag, err = s.api.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, time.Now().Add(-s.opt.KeyTTL)); err != nil {
		return 0, inbox, s.unreachable("prune the idempotency keys", err)
	}
	keys = tag.RowsAffected()
	if s.opt.MaxKeys > 0 {
		// Older than the MaxKeys-th newest (none when there are fewer:
		// the subquery is NULL).
		if tag, err = s.api.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at <
			(SELECT created_at FROM idempotency_keys ORDER BY created_at DESC OFFSET $1 LIMIT 1)`, s.opt.MaxKeys-1); err != nil {
			return keys, inbox, s.unreachable("bound the idempotency keys", err)
		}
		keys += tag.RowsAffected()
	}
	return keys, inbox, nil
}

// scrub is err's message without the password, on one line (the driver
// lists each address it tried on a line of its own).
func (s *Store) scrub(err error) string {
	msg := strings.ReplaceAll(err.Error(), ":\n\t", ": ")
	msg = strings.ReplaceAll(msg, "\n\t", "; ")
	return scrub(strings.ReplaceAll(msg, "\n", " "), s.pw)
}

// Close stops the pruner and closes the pools. It is idempotent.
func (s *Store) Close() {
	s.closed.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.done
		}
	})
	s.pool.Close()
	s.api.Close()
}

// MaxConns is the most connections the pool opens.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }

// Schema returns the PostgreSQL schema of the store's namespace.
func (s *Store) Schema() string { return s.schema }

// Pool returns the connection pool (for tests and tools that read the
// tables).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Kind implements engine.State.
func (s *Store) Kind() string { return engine.StatePostgres }

// Describe implements engine.State: "postgres user@host:port/db schema S".
func (s *Store) Describe() string { return s.desc }

// Inbox implements engine.State.
func (s *Store) Inbox() engine.Inbox { return s }

// Keys implements engine.State.
func (s *Store) Keys() engine.KeyStore { return s.keys }

// Prepare implements engine.State: it creates the products of c missing
// from the table (a first start; a restart or a second process keeps
// the stock there is), forgets inbox rows and Idempotency-Keys past
// their time, and reads the prices.
func (s *Store) Prepare(ctx context.Context, c engine.Catalog) error {
	prices := c.Prices()
	ids := make([]int32, len(prices))
	stock := make([]int64, len(prices))
	for i := range prices {
		ids[i], stock[i] = int32(i+1), int64(c.Stock)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO stock (product_id, price_cents, initial, stock)
		SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $3::bigint[])
		ON CONFLICT (product_id) DO NOTHING`, ids, prices, stock); err != nil {
		return s.unreachable("seed the stock", err)
	}
	if _, _, err := s.Prune(ctx); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT product_id, price_cents FROM stock ORDER BY product_id`)
	if err != nil {
		return s.unreachable("read the prices", err)
	}
	var table []int64
	for rows.Next() {
		var id int32
		var price int64
		if err := rows.Scan(&id, &price); err != nil {
			rows.Close()
			return s.unreachable("read the prices", err)
		}
		for len(table) < int(id) {
			table = append(table, 0) // a gap: unknown (never made by oms-sim)
		}
		table[id-1] = price
	}
	if err := rows.Err(); err != nil {
		return s.unreachable("read the prices", err)
	}
	s.prices.Store(&table)
	return nil
}

// unreachable wraps a failure to use the database as
// engine.ErrStateUnreachable.
func (s *Store) unreachable(what string, err error) error {
	return fmt.Errorf("%w: %s: %s", engine.ErrStateUnreachable, what, s.scrub(err))
}

// Price implements engine.State.
func (s *Store) Price(id int) (int64, bool) {
	p := s.prices.Load()
	if p == nil || id < 1 || id > len(*p) || (*p)[id-1] == 0 {
		return 0, false
	}
	return (*p)[id-1], true
}

// Products implements engine.State.
func (s *Store) Products() int {
	if p := s.prices.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// db is what runs a statement: the message's inbox transaction when ctx
// carries one, else the pool (each statement its own transaction).
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

func (s *Store) db(ctx context.Context) db {
	if tx, ok := ctx.Value(txKey{}).(db); ok {
		return tx
	}
	return s.pool
}

// Charge implements engine.State: one charge per order (a second is
// ignored: the key holds the first).
func (s *Store) Charge(ctx context.Context, orderID string, amountCents int64) error {
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO charges (order_id, amount_cents) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`, orderID, amountCents)
	return err
}

// Refund implements engine.State: one refund per order.
func (s *Store) Refund(ctx context.Context, orderID string, amountCents int64) error {
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO refunds (order_id, amount_cents) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`, orderID, amountCents)
	return err
}

// takeSQL takes stock with one conditional update (never below zero: the
// row's lock makes concurrent takes queue, and each re-checks the stock
// it finds) and records the take in the same statement.
const takeSQL = `WITH u AS (
	UPDATE stock SET stock = stock - $3 WHERE product_id = $2 AND stock >= $3 RETURNING stock
), t AS (
	INSERT INTO stock_takes (order_id, product_id, qty) SELECT $1::text, $2::integer, $3::integer FROM u
)
SELECT stock FROM u`

// Take implements engine.State.
func (s *Store) Take(ctx context.Context, orderID string, product, qty int) (int, bool, error) {
	if _, ok := s.Price(product); !ok {
		return 0, false, nil
	}
	d := s.db(ctx)
	var left int64
	err := d.QueryRow(ctx, takeSQL, orderID, product, qty).Scan(&left)
	switch {
	case err == nil:
		return int(left), true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, false, err
	}
	// Not enough: say how many are left.
	if err := d.QueryRow(ctx, `SELECT stock FROM stock WHERE product_id = $1`, product).Scan(&left); err != nil {
		return 0, false, err
	}
	return int(left), false, nil
}

// Restock implements engine.State: in one transaction, check that no
// product would pass engine.MaxStock, add qty and record the restock.
func (s *Store) Restock(ctx context.Context, product, qty int) error {
	if product != 0 {
		if _, ok := s.Price(product); !ok {
			return fmt.Errorf("restock: unknown product %d (valid: 0 for all, 1..%d)", product, s.Products())
		}
	}
	var full error // a product that would pass engine.MaxStock
	err := pgx.BeginFunc(ctx, s.api, func(tx pgx.Tx) error {
		var id int32
		var stock int64
		err := tx.QueryRow(ctx, `SELECT product_id, stock FROM stock WHERE ($1 = 0 OR product_id = $1) AND stock > $2 ORDER BY product_id LIMIT 1 FOR UPDATE`,
			product, engine.MaxStock-int64(qty)).Scan(&id, &stock)
		if err == nil {
			full = fmt.Errorf("restock: product %d holds %d; adding %d would pass the most a product may hold, %d", id, stock, qty, int64(engine.MaxStock))
			return full
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE stock SET stock = stock + $2 WHERE $1 = 0 OR product_id = $1`, product, qty); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO restocks (product_id, qty) SELECT product_id, $2::bigint FROM stock WHERE $1 = 0 OR product_id = $1`, product, qty)
		return err
	})
	switch {
	case err == nil:
		return nil
	case full != nil:
		return full
	}
	return s.unreachable("restock", err)
}

// Stock implements engine.State.
func (s *Store) Stock(ctx context.Context) ([]engine.ProductStock, error) {
	rows, err := s.api.Query(ctx, `SELECT product_id, price_cents, stock FROM stock ORDER BY product_id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ProductStock, error) {
		var p engine.ProductStock
		var id int32
		var stock int64
		err := r.Scan(&id, &p.PriceCents, &stock)
		p.ProductID, p.Stock = int(id), int(stock)
		return p, err
	})
}
