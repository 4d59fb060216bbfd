package pgstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"oms-sim/engine"
)

// keyStore keeps the API's Idempotency-Keys in the idempotency_keys
// table, so that a client's retry reaching another process's API (or the
// same one after a restart) finds its key. Its answers are the in-memory
// store's (engine/httpapi), with one addition: a key left in flight for
// longer than engine.KeyInFlightStale (its process died mid-request) is
// taken for indeterminate, and the retry publishes the same order again.
// Keys expire after Options.KeyTTL; the Store prunes expired ones, and
// all but the newest Options.MaxKeys, every Options.PruneEvery.
type keyStore struct{ s *Store }

var _ engine.KeyStore = (*keyStore)(nil)

// keyTries bounds Begin's attempts when other processes insert the same
// new key at the same moment.
const keyTries = 3

func (k *keyStore) Begin(ctx context.Context, key string, req engine.OrderRequest, now time.Time, mk func() engine.Order) (engine.Order, engine.KeyVerdict, engine.KeyState, error) {
	for range keyTries {
		o, v, prev, retry, err := k.begin(ctx, key, req, now, mk)
		if !retry {
			return o, v, prev, err
		}
	}
	return engine.Order{}, 0, 0, fmt.Errorf("idempotency key %q: contended by other requests; retry", key)
}

// begin is one attempt of Begin; retry means another transaction inserted
// the key first.
func (k *keyStore) begin(ctx context.Context, key string, req engine.OrderRequest, now time.Time, mk func() engine.Order) (o engine.Order, v engine.KeyVerdict, prev engine.KeyState, retry bool, err error) {
	tx, err := k.s.api.Begin(ctx)
	if err != nil {
		return o, 0, 0, false, err
	}
	defer rollback(tx) // after a commit: a no-op
	var reqJSON, orderJSON []byte
	var state int16
	var created, updated time.Time
	err = tx.QueryRow(ctx, `SELECT request, order_json, state, created_at, updated_at FROM idempotency_keys WHERE key = $1 FOR UPDATE`, key).
		Scan(&reqJSON, &orderJSON, &state, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && now.Sub(created) >= k.s.opt.KeyTTL) {
		o = mk()
		rj, err := json.Marshal(req)
		if err != nil {
			return o, 0, 0, false, err
		}
		oj, err := json.Marshal(o)
		if err != nil {
			return o, 0, 0, false, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (key, request, order_json, state, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (key) DO UPDATE SET request = EXCLUDED.request, order_json = EXCLUDED.order_json,
				state = EXCLUDED.state, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
			WHERE idempotency_keys.created_at <= $6`, key, rj, oj, int16(engine.KeyInFlight), now, now.Add(-k.s.opt.KeyTTL))
		if err != nil {
			return o, 0, 0, false, err
		}
		if tag.RowsAffected() == 0 {
			return o, 0, 0, true, nil // inserted by another request just now
		}
		return o, engine.KeyPublish, engine.KeyFailed, false, tx.Commit(ctx)
	}
	if err != nil {
		return o, 0, 0, false, err
	}
	var was engine.OrderRequest
	if err := json.Unmarshal(reqJSON, &was); err != nil {
		return o, 0, 0, false, fmt.Errorf("idempotency key %q: stored request: %w", key, err)
	}
	if err := json.Unmarshal(orderJSON, &o); err != nil {
		return o, 0, 0, false, fmt.Errorf("idempotency key %q: stored order: %w", key, err)
	}
	st := engine.KeyState(state)
	switch {
	case was != req:
		return o, engine.KeyMismatch, st, false, nil
	case st == engine.KeyInFlight && now.Sub(updated) < engine.KeyInFlightStale:
		return o, engine.KeyBusy, st, false, nil
	case st == engine.KeyAccepted:
		return o, engine.KeyReplay, st, false, nil
	}
	prev = st
	if st == engine.KeyInFlight {
		prev = engine.KeyIndeterminate // its process went away mid-publish: the broker may have it
	}
	if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET state = $2, updated_at = $3 WHERE key = $1`, key, int16(engine.KeyInFlight), now); err != nil {
		return o, 0, 0, false, err
	}
	return o, engine.KeyPublish, prev, false, tx.Commit(ctx)
}

func (k *keyStore) End(ctx context.Context, key string, st engine.KeyState) error {
	_, err := k.s.api.Exec(ctx, `UPDATE idempotency_keys SET state = $2, updated_at = $3 WHERE key = $1`, key, int16(st), time.Now())
	return err
}

// rollback ends a transaction that did nothing worth keeping (a no-op
// after a commit), even when the request's context has ended.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // a broken connection is closed either way
}
