package engine

import (
	"context"
	"errors"
	"time"
)

// The domain state: what the stages change (charges, refunds, stock) and
// the API reads (stock, Idempotency-Keys). By default it lives in the
// process (memoryState): one process, its own stock, its own memory of
// handled messages. A shared State (engine/pgstate, --state postgres://…)
// keeps it in a database every process of a pipeline uses, and answers
// redeliveries from an inbox written in the same transaction as the
// effect (inbox.go), so that a message handled by one process is never
// handled again by another, nor after a restart.

// State kinds, as StateStatus.Kind reports them.
const (
	StateMemory   = "memory"
	StatePostgres = "postgres"
)

// ErrStateUnreachable marks a shared state that cannot be reached when
// the engine starts (exit 3, like an unreachable broker).
var ErrStateUnreachable = errors.New("state database unreachable")

// State is the domain state the stages share. Its methods are safe for
// concurrent use. ctx is a handler's: within a message's inbox
// transaction (Inbox) the writes join it, so they commit or roll back
// with the message's outcome.
type State interface {
	// Kind is StateMemory or StatePostgres; Describe says where the
	// state lives, without a password ("memory", "postgres oms@host:5432/oms").
	Kind() string
	Describe() string
	// Prepare readies the state for catalog before the engine starts:
	// a shared state creates the products a first process finds missing
	// (keeping what is there: stock survives restarts) and reads the
	// prices every process then uses.
	Prepare(ctx context.Context, c Catalog) error
	// Price returns a product's unit price in cents, false when the
	// product is unknown. Products is the number of products (ids
	// 1..Products). Both answer from memory (prices do not change).
	Price(product int) (int64, bool)
	Products() int
	// Charge records the payment of an order; Refund gives it back.
	// Each happens at most once per order: a second call for the same
	// order changes nothing.
	Charge(ctx context.Context, orderID string, amountCents int64) error
	Refund(ctx context.Context, orderID string, amountCents int64) error
	// Take removes qty of product from stock if that many are there
	// (ok), never leaving less than zero; left is the stock after.
	Take(ctx context.Context, orderID string, product, qty int) (left int, ok bool, err error)
	// Restock adds qty to product, or to every product when product is
	// 0; it changes nothing when one would pass MaxStock.
	Restock(ctx context.Context, product, qty int) error
	// Stock lists every product with its price and stock now.
	Stock(ctx context.Context) ([]ProductStock, error)
	// Inbox returns the shared inbox of handled messages, or nil when
	// each stage deduplicates in its own memory (dedupe.go).
	Inbox() Inbox
	// Keys returns the shared Idempotency-Key store, or nil when the
	// API keeps keys in its own memory.
	Keys() KeyStore
}

// Inbox remembers, per stage, every message handled and the message its
// handling sent on, in the same transaction as the handling's effects.
type Inbox interface {
	// Claim begins the transaction of handling message msgID at stage
	// and claims the message. A message handled before (by any process)
	// is not claimed: Claim ends the transaction and returns what its
	// handling sent on (found). A claim made by another worker that has
	// not committed yet makes Claim wait for it.
	Claim(ctx context.Context, stage, msgID, orderID string) (tx InboxTx, rec InboxRecord, found bool, err error)
}

// InboxTx is the transaction of handling one claimed message.
type InboxTx interface {
	// Context returns ctx carrying the transaction: the State's writes
	// made with it join the transaction.
	Context(ctx context.Context) context.Context
	// Commit records the outgoing message (routing key and body) as the
	// message's outcome and commits everything.
	Commit(ctx context.Context, key string, body []byte) error
	// Rollback abandons the claim and every write (the retry does the
	// work). It is safe after Commit.
	Rollback(ctx context.Context)
}

// InboxRecord is a handled message's recorded outcome.
type InboxRecord struct {
	Key  string
	Body []byte
}

// InboxDetail starts the detail of an EventRedelivered answered from a
// shared inbox (not from a process's memory).
const InboxDetail = "answered from the inbox"

// StateStatus describes the state in a snapshot: where it lives and the
// stock it holds (read about once a second; the same figures in every
// process of a pipeline with a shared state).
type StateStatus struct {
	Kind string `json:"kind"`
	// URL is where a shared state lives, without a password.
	URL string `json:"url,omitempty"`
	// Products, Units and OutOfStock summarise the stock: products,
	// units in stock over all of them, products with none left.
	Products   int   `json:"products"`
	Units      int64 `json:"stock_units"`
	OutOfStock int   `json:"out_of_stock"`
	// InboxHits counts redeliveries answered from the shared inbox,
	// over every stage (each stage's own count is in its snapshot).
	InboxHits int64 `json:"inbox_hits"`
	// Read is when the stock was read; Err is set when it could not be.
	Read time.Time `json:"read"`
	Err  string    `json:"error,omitempty"`
}

// LedgerChecker is implemented by a shared state that keeps a ledger the
// audit can check (engine/pgstate).
type LedgerChecker interface {
	Ledger(ctx context.Context, since time.Time) (StateLedger, error)
}

// StateLedger is what a shared state's ledger says about the effects of
// the pipeline: the facts the audit checks against the events.
type StateLedger struct {
	// Charged lists the orders charged since the time asked for, and
	// DoubleCharged those charged more than once (none while the schema
	// holds: charges are keyed by order).
	Charged       []string `json:"charged"`
	DoubleCharged []string `json:"double_charged"`
	// Refunded lists the orders refunded since then; UnjustifiedRefunds
	// those with no inventory.failed outcome in the inventory stage's
	// inbox, and UnchargedRefunds those never charged.
	Refunded           []string `json:"refunded"`
	UnjustifiedRefunds []string `json:"unjustified_refunds"`
	UnchargedRefunds   []string `json:"uncharged_refunds"`
	// Stock balances every product over all time: initial − taken +
	// restocked must equal the stock now.
	Stock []StockBalance `json:"stock"`
}

// StockBalance is one product's stock account.
type StockBalance struct {
	ProductID int   `json:"product_id"`
	Initial   int64 `json:"initial"`
	Taken     int64 `json:"taken"`
	Restocked int64 `json:"restocked"`
	Current   int64 `json:"current"`
}

// Balanced reports whether initial − taken + restocked = current.
func (b StockBalance) Balanced() bool { return b.Initial-b.Taken+b.Restocked == b.Current }

// Unbalanced returns the products whose stock does not balance.
func (l StateLedger) Unbalanced() []StockBalance {
	var out []StockBalance
	for _, b := range l.Stock {
		if !b.Balanced() {
			out = append(out, b)
		}
	}
	return out
}

// memoryState is the state of one process: the in-memory inventory; no
// record of charges (the events are the record); each stage's own
// dedupe memory; the API's own key memory.
type memoryState struct{ inv *inventory }

var _ State = memoryState{}

func newMemoryState(c Catalog) memoryState { return memoryState{inv: newInventory(c)} }

func (m memoryState) Kind() string                                { return StateMemory }
func (m memoryState) Describe() string                            { return StateMemory }
func (m memoryState) Prepare(context.Context, Catalog) error      { return nil }
func (m memoryState) Price(id int) (int64, bool)                  { return m.inv.price(id) }
func (m memoryState) Products() int                               { return len(m.inv.prices) }
func (m memoryState) Charge(context.Context, string, int64) error { return nil }
func (m memoryState) Refund(context.Context, string, int64) error { return nil }
func (m memoryState) Take(_ context.Context, _ string, id, qty int) (int, bool, error) {
	left, ok := m.inv.take(id, qty)
	return left, ok, nil
}
func (m memoryState) Restock(_ context.Context, id, qty int) error  { return m.inv.restock(id, qty) }
func (m memoryState) Stock(context.Context) ([]ProductStock, error) { return m.inv.list(), nil }
func (m memoryState) Inbox() Inbox                                  { return nil }
func (m memoryState) Keys() KeyStore                                { return nil }
