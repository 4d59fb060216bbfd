package engine

import (
	"context"
	"time"
)

// The snapshot's stock figures come from the state, read in the
// background once a second: the dashboard polls snapshots several times a
// second, and a shared state is a database round trip away.

// stockReadTimeout bounds one read (or restock) of the state's stock.
const stockReadTimeout = 2 * time.Second

// stockEvery is how often the stock is read for snapshots.
const stockEvery = time.Second

// watchStock reads the stock for snapshots until ctx ends.
func (e *Engine) watchStock(ctx context.Context) {
	t := time.NewTicker(stockEvery)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, stockReadTimeout)
		e.refreshStock(rctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshStock reads the stock now and keeps its summary for snapshots.
// A failed read keeps the last figures and says why.
func (e *Engine) refreshStock(ctx context.Context) {
	st := e.stateBase()
	st.Read = time.Now()
	list, err := e.state.Stock(ctx)
	if err != nil {
		if prev := e.stock.Load(); prev != nil {
			st.Products, st.Units, st.OutOfStock, st.Read = prev.Products, prev.Units, prev.OutOfStock, prev.Read
		}
		st.Err = err.Error()
		e.stock.Store(&st)
		return
	}
	st.Products = len(list)
	for _, p := range list {
		st.Units += int64(p.Stock)
		if p.Stock == 0 {
			st.OutOfStock++
		}
	}
	e.stock.Store(&st)
}

// stateStatus is the snapshot's view of the state: the last stock read
// and the inbox hits over every stage.
func (e *Engine) stateStatus(stages []StageSnapshot) StateStatus {
	st := e.stateBase()
	if p := e.stock.Load(); p != nil {
		st = *p
	}
	for _, s := range stages {
		st.InboxHits += s.InboxHits
	}
	return st
}

// stateBase is what a status says of the state before any stock read:
// its kind and, for a shared one, where it is (without password).
func (e *Engine) stateBase() StateStatus {
	st := StateStatus{Kind: e.state.Kind()}
	if st.Kind != StateMemory {
		st.URL = e.state.Describe()
	}
	return st
}
