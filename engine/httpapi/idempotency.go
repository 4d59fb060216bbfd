package httpapi

import (
	"container/list"
	"context"
	"sync"
	"time"

	"oms-sim/engine"
)

// The Idempotency-Key memory of POST /api/orders: the key rules and
// bounds are engine.CheckIdempotencyKey and Config.IdempotencyKeys and
// IdempotencyTTL.

// keyState is where an order placed under a key stands.
type keyState = engine.KeyState

const (
	keyInFlight      = engine.KeyInFlight
	keyAccepted      = engine.KeyAccepted
	keyIndeterminate = engine.KeyIndeterminate
	keyFailed        = engine.KeyFailed
)

// keyEntry is one remembered key.
type keyEntry struct {
	key   string
	req   engine.OrderRequest
	order engine.Order
	state keyState
	at    time.Time
	elem  *list.Element
}

// keyVerdict tells the handler what to do with a keyed request.
type keyVerdict = engine.KeyVerdict

const (
	keyPublish  = engine.KeyPublish
	keyReplay   = engine.KeyReplay
	keyBusy     = engine.KeyBusy
	keyMismatch = engine.KeyMismatch
)

// idemKeys remembers Idempotency-Keys, bounded by count and age, oldest
// forgotten first.
type idemKeys struct {
	mu  sync.Mutex
	m   map[string]*keyEntry
	lru *list.List // oldest at the front
	max int
	ttl time.Duration
}

func newIdemKeys(max int, ttl time.Duration) *idemKeys {
	return &idemKeys{m: map[string]*keyEntry{}, lru: list.New(), max: max, ttl: ttl}
}

var _ engine.KeyStore = (*idemKeys)(nil)

// Begin implements engine.KeyStore (in memory: it never fails).
func (k *idemKeys) Begin(_ context.Context, key string, req engine.OrderRequest, now time.Time, mk func() engine.Order) (engine.Order, keyVerdict, keyState, error) {
	o, v, prev := k.begin(key, req, now, mk)
	return o, v, prev, nil
}

// End implements engine.KeyStore.
func (k *idemKeys) End(_ context.Context, key string, s keyState) error {
	k.end(key, s)
	return nil
}

// begin looks key up for req. For keyPublish it returns the order to
// publish (a new one, made by mk, or the one a failed or indeterminate
// attempt left) and marks the key in flight; the caller must call end.
// prev is the key's state before (keyFailed for a new key), to hand back
// to end if the attempt publishes nothing.
func (k *idemKeys) begin(key string, req engine.OrderRequest, now time.Time, mk func() engine.Order) (o engine.Order, v keyVerdict, prev keyState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.expireLocked(now)
	if e, ok := k.m[key]; ok {
		switch {
		case e.req != req:
			return e.order, keyMismatch, e.state
		case e.state == keyInFlight:
			return e.order, keyBusy, e.state
		case e.state == keyAccepted:
			return e.order, keyReplay, e.state
		}
		// Failed or indeterminate: publish the same order again. If the
		// broker had it after all, the payment stage knows its message
		// id and does not charge twice.
		prev, e.state = e.state, keyInFlight
		return e.order, keyPublish, prev
	}
	e := &keyEntry{key: key, req: req, order: mk(), state: keyInFlight, at: now}
	e.elem = k.lru.PushBack(e)
	k.m[key] = e
	for k.lru.Len() > k.max {
		k.removeLocked(k.lru.Front().Value.(*keyEntry))
	}
	return e.order, keyPublish, keyFailed
}

// end records how publishing the key's order went.
func (k *idemKeys) end(key string, s keyState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.m[key]; ok {
		e.state = s
	}
}

func (k *idemKeys) expireLocked(now time.Time) {
	for f := k.lru.Front(); f != nil; f = k.lru.Front() {
		e := f.Value.(*keyEntry)
		if now.Sub(e.at) < k.ttl {
			return
		}
		k.removeLocked(e)
	}
}

func (k *idemKeys) removeLocked(e *keyEntry) {
	k.lru.Remove(e.elem)
	delete(k.m, e.key)
}

func (k *idemKeys) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}
