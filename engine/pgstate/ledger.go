package pgstate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"oms-sim/engine"
)

// Ledger implements engine.LedgerChecker: what the tables say about the
// pipeline's effects, for the audit to check against the events. Charges
// and refunds count from since (a run's start); the stock balances cover
// all time (the stock does).
func (s *Store) Ledger(ctx context.Context, since time.Time) (engine.StateLedger, error) {
	var l engine.StateLedger
	var err error
	strs := func(what, sql string, args ...any) []string {
		if err != nil {
			return nil
		}
		var rows pgx.Rows
		if rows, err = s.api.Query(ctx, sql, args...); err != nil {
			err = fmt.Errorf("ledger %s: %w", what, err)
			return nil
		}
		var out []string
		if out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			err = fmt.Errorf("ledger %s: %w", what, err)
		}
		return out
	}
	l.Charged = strs("charges", `SELECT order_id FROM charges WHERE at >= $1 ORDER BY order_id`, since)
	l.DoubleCharged = strs("double charges", `SELECT order_id FROM charges WHERE at >= $1 GROUP BY order_id HAVING count(*) > 1 ORDER BY order_id`, since)
	l.Refunded = strs("refunds", `SELECT order_id FROM refunds WHERE at >= $1 ORDER BY order_id`, since)
	l.UnjustifiedRefunds = strs("unjustified refunds", `SELECT r.order_id FROM refunds r
		WHERE r.at >= $1 AND NOT EXISTS (SELECT 1 FROM inbox i
			WHERE i.order_id = r.order_id AND i.stage = $2 AND i.routing_key = $3)
		ORDER BY r.order_id`, since, engine.StageInventory, engine.KeyInventoryFailed)
	l.UnchargedRefunds = strs("uncharged refunds", `SELECT r.order_id FROM refunds r
		WHERE r.at >= $1 AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.order_id = r.order_id)
		ORDER BY r.order_id`, since)
	if err != nil {
		return l, err
	}
	rows, err := s.api.Query(ctx, `SELECT s.product_id, s.initial, coalesce(t.taken, 0), coalesce(r.restocked, 0), s.stock
		FROM stock s
		LEFT JOIN (SELECT product_id, sum(qty)::bigint AS taken FROM stock_takes GROUP BY product_id) t USING (product_id)
		LEFT JOIN (SELECT product_id, sum(qty)::bigint AS restocked FROM restocks GROUP BY product_id) r USING (product_id)
		ORDER BY s.product_id`)
	if err != nil {
		return l, fmt.Errorf("ledger stock: %w", err)
	}
	l.Stock, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.StockBalance, error) {
		var b engine.StockBalance
		var id int32
		err := r.Scan(&id, &b.Initial, &b.Taken, &b.Restocked, &b.Current)
		b.ProductID = int(id)
		return b, err
	})
	if err != nil {
		return l, fmt.Errorf("ledger stock: %w", err)
	}
	return l, nil
}
