package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"oms-sim/engine"
)

// placeKeyed places an order under an Idempotency-Key: the first request
// publishes it (202); a retry of an accepted one answers it again (200,
// with its status now); a retry after a 503 publishes the same order
// again; the key with another body is refused (422), and while a request
// with it is publishing, so is a second one (409).
func (e *server) placeKeyed(w http.ResponseWriter, r *http.Request, key string, req engine.OrderRequest) {
	if err := engine.CheckIdempotencyKey(key); err != nil {
		e.CountAPI(engine.APIRejected)
		writeError(w, http.StatusBadRequest, engine.HeaderIdempotencyKey, "%v", err)
		return
	}
	o, verdict, prev, err := e.idem.Begin(r.Context(), key, req, time.Now(), func() engine.Order { return engine.NewOrder(req) })
	if err != nil {
		e.CountAPI(engine.APIUnavailable)
		e.log.Warn("idempotency key store", "err", err)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, apiError{
			Error:  fmt.Sprintf("order not accepted: the Idempotency-Key store could not be read (%v); retry later", err),
			Reason: ReasonUnavailable,
		})
		return
	}
	switch verdict {
	case keyMismatch:
		e.CountAPI(engine.APIRejected)
		writeJSON(w, http.StatusUnprocessableEntity, apiError{
			Error: fmt.Sprintf("%s %q was used for order %s with another body (product_id %d, quantity %d, user_id %d): use a new key for a new order", engine.HeaderIdempotencyKey, key, o.OrderID, o.ProductID, o.Quantity, o.UserID),
			Field: engine.HeaderIdempotencyKey, Reason: ReasonKeyMismatch, OrderID: o.OrderID,
		})
		return
	case keyBusy:
		e.CountAPI(engine.APIRejected)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusConflict, apiError{
			Error: fmt.Sprintf("a request with %s %q is being handled now; retry when it has been answered", engine.HeaderIdempotencyKey, key),
			Field: engine.HeaderIdempotencyKey, Reason: ReasonKeyInUse, OrderID: o.OrderID,
		})
		return
	case keyReplay:
		w.Header().Set("Idempotent-Replayed", "true")
		e.writeAccepted(w, http.StatusOK, o, e.OrderStatus(o.OrderID))
		return
	}
	if !e.admitOrShed(w) {
		e.endKey(key, prev)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), publishTimeout)
	defer cancel()
	if err := e.PublishOrder(ctx, o); err != nil {
		next := keyFailed
		if errors.Is(err, engine.ErrIndeterminate) || prev == keyIndeterminate {
			next = keyIndeterminate // the broker may have it from this or an earlier try
		}
		e.endKey(key, next)
		e.writeUnavailable(w, o.OrderID, err)
		return
	}
	e.endKey(key, keyAccepted)
	e.writeAccepted(w, http.StatusAccepted, o, engine.StatusPending)
}

// endKey records how publishing a key's order went. A shared store that
// cannot record it leaves the key in flight, which it takes for
// indeterminate after engine.KeyInFlightStale: logged, not answered.
func (e *server) endKey(key string, s engine.KeyState) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := e.idem.End(ctx, key, s); err != nil {
		e.log.Warn("idempotency key store: record the key's outcome", "err", err)
	}
}
