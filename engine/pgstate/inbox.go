package pgstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"oms-sim/engine"
)

// The inbox transaction of a message costs the handler's own statements
// plus two round trips: BEGIN travels with the claim, and the outcome's
// UPDATE with the COMMIT, each pair pipelined as one batch on the
// connection the transaction holds.

// claimSQL claims a message: a row already there (handled before) or
// being inserted by another open transaction (which the insert waits for)
// leaves nothing inserted.
const claimSQL = `INSERT INTO inbox (stage, message_id, order_id) VALUES ($1, $2, $3) ON CONFLICT (stage, message_id) DO NOTHING`

// Claim implements engine.Inbox: it begins the message's transaction and
// inserts its inbox row. When the row is there already (handled before)
// it returns the recorded outcome instead and ends the transaction. A row
// another transaction inserted and has not committed makes the insert
// wait on the key: then it finds the row (committed) or inserts its own
// (rolled back).
func (s *Store) Claim(ctx context.Context, stage, msgID, orderID string) (engine.InboxTx, engine.InboxRecord, bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, engine.InboxRecord{}, false, err
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(claimSQL, stage, msgID, orderID)
	br := conn.SendBatch(ctx, b)
	_, errBegin := br.Exec()
	tag, errClaim := br.Exec()
	if err := errors.Join(errBegin, errClaim, br.Close()); err != nil {
		abort(conn)
		return nil, engine.InboxRecord{}, false, err
	}
	if tag.RowsAffected() == 1 {
		return &inboxTx{conn: conn, stage: stage, msgID: msgID}, engine.InboxRecord{}, false, nil
	}
	var rec engine.InboxRecord
	var key *string
	b = &pgx.Batch{}
	b.Queue(`SELECT routing_key, body FROM inbox WHERE stage = $1 AND message_id = $2`, stage, msgID).QueryRow(func(r pgx.Row) error {
		return r.Scan(&key, &rec.Body)
	})
	b.Queue("ROLLBACK")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		abort(conn)
		return nil, engine.InboxRecord{}, false, err
	}
	conn.Release()
	if key == nil || *key == "" {
		// Never committed without an outcome; if it were, redoing the
		// work would be the safe answer.
		return nil, engine.InboxRecord{}, false, fmt.Errorf("inbox row %s/%s has no outcome", stage, msgID)
	}
	rec.Key = *key
	return nil, rec, true, nil
}

// abort rolls back whatever conn's transaction holds and gives the
// connection back (the pool closes one left in a transaction, or
// broken), even when the handling's context has ended.
func abort(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK") // a broken connection is closed either way
	conn.Release()
}

// inboxTx is a claimed message's transaction, on the connection it holds
// until Commit or Rollback.
type inboxTx struct {
	conn         *pgxpool.Conn // nil once ended
	stage, msgID string
}

func (t *inboxTx) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{}, db(t.conn))
}

func (t *inboxTx) Commit(ctx context.Context, key string, body []byte) error {
	if t.conn == nil {
		return errors.New("inbox transaction already ended")
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE inbox SET routing_key = $3, body = $4 WHERE stage = $1 AND message_id = $2`, t.stage, t.msgID, key, body)
	b.Queue("COMMIT")
	br := t.conn.SendBatch(ctx, b)
	_, errRecord := br.Exec()
	_, errCommit := br.Exec()
	if err := errors.Join(errRecord, errCommit, br.Close()); err != nil {
		abort(t.conn)
		t.conn = nil
		return err
	}
	t.conn.Release()
	t.conn = nil
	return nil
}

func (t *inboxTx) Rollback(context.Context) {
	if t.conn != nil {
		abort(t.conn)
		t.conn = nil
	}
}
