package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"oms-sim/engine"
)

// The inventory endpoints: the stock as the engine's state holds it (with
// a shared state, what every process of the pipeline answers), and
// restocking (behind the admin token).

func (e *server) handleInventory(w http.ResponseWriter, r *http.Request) {
	e.writeStock(w, r)
}

// writeStock answers with the stock, read from the state (with a shared
// state, what every process answers), or 503 when it cannot be read.
func (e *server) writeStock(w http.ResponseWriter, r *http.Request) {
	list, err := e.StockContext(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error(), Reason: ReasonUnavailable})
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (e *server) handleRestock(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	var req struct {
		ProductID int `json:"product_id"`
		Quantity  int `json:"quantity"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "", "%v (fields: product_id (0 = all), quantity)", err)
		return
	}
	if err := e.Restock("api", req.ProductID, req.Quantity); err != nil {
		if errors.Is(err, engine.ErrStateUnreachable) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error(), Reason: ReasonUnavailable})
			return
		}
		writeError(w, http.StatusBadRequest, "", "%v", err)
		return
	}
	e.writeStock(w, r)
}
