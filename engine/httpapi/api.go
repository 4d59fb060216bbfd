// Package httpapi is the HTTP API of an engine (DESIGN.md §9): orders
// (POST /api/orders with Idempotency-Key, GET /api/orders[/{id}]),
// stages and their knobs, inventory and restock (both behind the admin
// token when one is set), the snapshot, health and readiness, Prometheus
// metrics and the OpenAPI document, with JSON errors for everything else.
// It uses the engine's exported methods only.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"oms-sim/engine"
)

// publishTimeout bounds how long POST /api/orders waits for the broker's
// confirm before answering 503.
const publishTimeout = 5 * time.Second

// server is the HTTP API of one engine. It uses the engine's exported
// methods only (embedded, so the handlers read as the engine's own) and
// owns the Idempotency-Key memory.
type server struct {
	*engine.Engine
	cfg  engine.Config
	log  *slog.Logger
	idem engine.KeyStore // nil: Idempotency-Key is ignored
}

// Handler returns the HTTP API of e: orders, stages, inventory, health,
// Prometheus metrics and the OpenAPI description. Build it once per
// engine: it holds the Idempotency-Keys it has seen.
func Handler(e *engine.Engine) http.Handler {
	return newServer(e).routes()
}

func newServer(eng *engine.Engine) *server {
	e := &server{Engine: eng, cfg: eng.Config()}
	e.log = e.cfg.Logger
	switch {
	case e.cfg.IdempotencyKeys == 0:
	case eng.State().Keys() != nil:
		e.idem = eng.State().Keys() // shared by every process's API
	default:
		e.idem = newIdemKeys(e.cfg.IdempotencyKeys, e.cfg.IdempotencyTTL)
	}
	return e
}

// routes is the route table of the API.
func (e *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/orders", e.handlePlaceOrder)
	mux.HandleFunc("GET /api/orders", e.handleListOrders)
	mux.HandleFunc("GET /api/orders/{id}", e.handleGetOrder)
	mux.HandleFunc("GET /api/stages", e.handleListStages)
	mux.HandleFunc("GET /api/stages/{name}", e.handleGetStage)
	mux.HandleFunc("PATCH /api/stages/{name}", e.requireAdmin(e.handlePatchStage))
	mux.HandleFunc("GET /api/inventory", e.handleInventory)
	mux.HandleFunc("POST /api/inventory/restock", e.requireAdmin(e.handleRestock))
	mux.HandleFunc("GET /api/snapshot", e.handleSnapshot)
	mux.HandleFunc("GET /api/openapi.json", handleOpenAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", e.handleReady)
	mux.Handle("GET /metrics", e.MetricsHandler())
	return jsonFallback(mux)
}

// jsonFallback answers what the mux does not route (404, and 405 with its
// Allow header) with the JSON error body every other answer has.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r) // routes again: Handler does not set r's path values
			return
		}
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r) // the mux's own 404 or 405: keep its code and Allow
		code := rec.code
		if code == 0 {
			code = http.StatusNotFound
		}
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch code {
		case http.StatusMethodNotAllowed:
			writeError(w, code, "", "method %s not allowed on %s: allowed are %s", r.Method, r.URL.Path, rec.header.Get("Allow"))
		case http.StatusNotFound:
			writeError(w, code, "", "no such endpoint: %s %s (see GET /api/openapi.json)", r.Method, r.URL.Path)
		default:
			writeError(w, code, "", "%s", http.StatusText(code))
		}
	})
}

// statusRecorder keeps the status and headers of the mux's fallback
// answer and throws its text body away.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

// apiError is the body of every error answer (DESIGN.md §9).
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Reason tells 503s and 409/422s apart for clients that retry:
	// ReasonBacklog, ReasonUnavailable, ReasonIndeterminate, …
	Reason string `json:"reason,omitempty"`
	// OrderID names the order an indeterminate answer is about: it may
	// run; a retry with the same Idempotency-Key makes sure it does, once.
	OrderID string `json:"order_id,omitempty"`
	// Backlog and MaxBacklog explain a shed order.
	Backlog    int `json:"backlog,omitempty"`
	MaxBacklog int `json:"max_backlog,omitempty"`
}

// Reasons in error answers of POST /api/orders.
const (
	ReasonBacklog       = "backlog"                  // 503: shed by admission control, nothing published
	ReasonUnavailable   = "unavailable"              // 503: broker away or refused, nothing accepted
	ReasonIndeterminate = "indeterminate"            // 503: no confirm in time; the order may run
	ReasonUnroutable    = "unroutable"               // 503: the broker returned order.created (no queue bound); nothing queued
	ReasonKeyInUse      = "idempotency_key_in_use"   // 409: the same key is being handled now
	ReasonKeyMismatch   = "idempotency_key_mismatch" // 422: the key was used with another body
	ReasonUnauthorized  = "unauthorized"             // 401: a changing endpoint without the admin token
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client may have gone; nothing to do
}

func writeError(w http.ResponseWriter, code int, field, format string, args ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, args...), Field: field})
}

// readJSONBody enforces the content type and size limit shared by every
// endpoint that takes a body. It writes the error answer itself.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		if ct == "" {
			ct = "none"
		}
		writeError(w, http.StatusUnsupportedMediaType, "", "Content-Type must be application/json, got %s", ct)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, engine.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "", "body exceeds %d bytes", engine.MaxBodyBytes)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "", "reading body: %v", err)
		return nil, false
	}
	return body, true
}

func (e *server) handlePlaceOrder(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONBody(w, r)
	if !ok {
		e.CountAPI(engine.APIRejected)
		return
	}
	req, err := engine.DecodeOrderRequest(body, e.KnownProduct)
	if err != nil {
		e.CountAPI(engine.APIRejected)
		var fe *engine.FieldError
		if errors.As(err, &fe) {
			if fe.Field == "product_id" && strings.HasPrefix(fe.Msg, "unknown product") {
				fe.Msg += fmt.Sprintf(" (valid: 1..%d)", e.cfg.Catalog.Products)
			}
			writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Msg, Field: fe.Field})
			return
		}
		writeError(w, http.StatusBadRequest, "", "%v", err)
		return
	}
	if req.DrawKey, err = engine.DrawKeyOf(r); err != nil {
		e.CountAPI(engine.APIRejected)
		writeError(w, http.StatusBadRequest, engine.HeaderDrawKey, "%v", err)
		return
	}
	if _, keyed := r.Header[engine.HeaderIdempotencyKey]; keyed && e.idem != nil {
		e.placeKeyed(w, r, r.Header.Get(engine.HeaderIdempotencyKey), req)
		return
	}
	if !e.admitOrShed(w) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), publishTimeout)
	defer cancel()
	o, err := e.PlaceOrder(ctx, req)
	if err != nil {
		var fe *engine.FieldError
		if errors.As(err, &fe) {
			e.CountAPI(engine.APIRejected)
			writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Msg, Field: fe.Field})
			return
		}
		e.writeUnavailable(w, o.OrderID, err)
		return
	}
	e.writeAccepted(w, http.StatusAccepted, o, engine.StatusPending)
}

// admitOrShed applies admission control; when the backlog is above the
// bound it answers 503 itself and returns false.
func (e *server) admitOrShed(w http.ResponseWriter) bool {
	ok, backlog, limit := e.Admit() // counts the shed order
	if ok {
		return true
	}
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, apiError{
		Error:  fmt.Sprintf("order not accepted: the pipeline's queues hold %d ready messages, above --max-backlog %d; retry later", backlog, limit),
		Reason: ReasonBacklog, Backlog: backlog, MaxBacklog: limit,
	})
	return false
}

// writeUnavailable answers 503 for an order the broker did not confirm.
func (e *server) writeUnavailable(w http.ResponseWriter, orderID string, err error) {
	e.CountAPI(engine.APIUnavailable)
	body := apiError{Error: fmt.Sprintf("order not accepted: %v; retry later", err), Reason: ReasonUnavailable}
	if errors.Is(err, engine.ErrUnroutable) {
		e.CountAPI(engine.APIUnroutable)
		body.Reason = ReasonUnroutable
	}
	if errors.Is(err, engine.ErrIndeterminate) {
		e.CountAPI(engine.APIIndeterminate)
		body.Reason, body.OrderID = ReasonIndeterminate, orderID
		body.Error = fmt.Sprintf("order %s not confirmed: %v; it may still run — retry with the same Idempotency-Key to make sure it runs once", orderID, err)
	}
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, body)
}

// writeAccepted answers with an order: 202 when it was just accepted, 200
// when a retry found it already accepted.
func (e *server) writeAccepted(w http.ResponseWriter, code int, o engine.Order, st engine.Status) {
	if code == http.StatusAccepted {
		e.CountAPI(engine.APIAccepted)
	}
	h := w.Header()
	h.Set("Location", "/api/orders/"+o.OrderID)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(code)
	var buf [512]byte
	_, _ = w.Write(appendAccepted(buf[:0], o, st)) // the client may have gone; nothing to do
}

// appendAccepted appends the answer to an accepted order: the bytes
// writeJSON writes for the map of the seed's fields (keys sorted, two
// spaces of indent), without reflection; on the product path encoding a
// map cost as much CPU as publishing the order (bench/RESULTS.md §29).
// TestAcceptedAnswerIsWriteJSONs checks the two agree.
func appendAccepted(b []byte, o engine.Order, st engine.Status) []byte {
	b = append(b, "{\n  \"created_at\": "...)
	b = engine.AppendJSONTime(b, o.CreatedAt)
	b = append(b, ",\n  \"message\": \"Order placed successfully\",\n  \"order_id\": "...)
	b = engine.AppendJSONString(b, o.OrderID)
	b = append(b, ",\n  \"product_id\": "...)
	b = strconv.AppendInt(b, int64(o.ProductID), 10)
	b = append(b, ",\n  \"quantity\": "...)
	b = strconv.AppendInt(b, int64(o.Quantity), 10)
	b = append(b, ",\n  \"status\": "...)
	b = engine.AppendJSONString(b, string(st))
	b = append(b, ",\n  \"user_id\": "...)
	b = strconv.AppendInt(b, int64(o.UserID), 10)
	return append(b, "\n}\n"...)
}

func (e *server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, ok := e.Order(id)
	if !ok {
		var err error
		if rec, ok, err = e.OrderFromHistory(r.Context(), id); err != nil {
			e.log.Warn("order from the event log", "order_id", id, "err", err)
		}
	}
	if !ok {
		also := ""
		if e.HasOrderHistory() {
			also = "; the event stream was searched around the id's time"
		}
		writeError(w, http.StatusNotFound, "id", "order %q not found (the store keeps the last %d orders%s)", id, e.cfg.RecentOrders, also)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (e *server) handleListOrders(w http.ResponseWriter, r *http.Request) {
	q := engine.OrderQuery{Limit: 50}
	if s := r.URL.Query().Get("status"); s != "" {
		for _, part := range strings.Split(s, ",") {
			st := engine.Status(strings.TrimSpace(part))
			if !validStatusFilter(st) {
				writeError(w, http.StatusBadRequest, "status", "unknown status %q: valid are %s, failed, open", st, joinStatuses())
				return
			}
			q.Status = append(q.Status, st)
		}
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &q.Limit, 1, 1000}, {"offset", &q.Offset, 0, 1 << 30}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < p.min || n > p.max {
			writeError(w, http.StatusBadRequest, p.name, "%s must be an integer %d..%d, got %q", p.name, p.min, p.max, v)
			return
		}
		*p.dst = n
	}
	orders, total := e.Orders(q)
	if orders == nil {
		orders = []engine.OrderRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders, "total": total})
}

func validStatusFilter(s engine.Status) bool {
	if s == "failed" || s == "open" {
		return true
	}
	for _, v := range engine.Statuses {
		if v == s {
			return true
		}
	}
	return false
}

func joinStatuses() string {
	var b []string
	for _, s := range engine.Statuses {
		b = append(b, string(s))
	}
	return strings.Join(b, ", ")
}

func (e *server) handleListStages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.Snapshot().Stages)
}

func (e *server) handleGetStage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, s := range e.Snapshot().Stages {
		if s.Name == name {
			writeJSON(w, http.StatusOK, s)
			return
		}
	}
	writeError(w, http.StatusNotFound, "name", "stage %q not found: valid are %s", name, strings.Join(e.StageNames(), ", "))
}

// stagePatchBody is PATCH /api/stages/{name}: the knobs plus paused.
type stagePatchBody struct {
	engine.StagePatch
	Paused *bool `json:"paused,omitempty"`
}

func (e *server) handlePatchStage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := e.CheckStage(name); errors.Is(err, engine.ErrUnknownStage) {
		writeError(w, http.StatusNotFound, "name", "stage %q not found: valid are %s", name, strings.Join(e.StageNames(), ", "))
		return
	} else if err != nil {
		writeError(w, http.StatusConflict, "name", "%v", err)
		return
	}
	body, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	var p stagePatchBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field = ute.Field
		}
		writeError(w, http.StatusBadRequest, field, "%v (fields: workers, prefetch, service_time, error_rate, decline_rate, paused)", err)
		return
	}
	if _, err := e.UpdateStage("api", name, p.StagePatch); err != nil {
		writeError(w, http.StatusBadRequest, "", "%v", err)
		return
	}
	if p.Paused != nil {
		if *p.Paused {
			_ = e.PauseStage("api", name) // name checked above
		} else {
			_ = e.ResumeStage("api", name)
		}
	}
	e.handleGetStage(w, r)
}

func (e *server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.Snapshot())
}

func (e *server) handleReady(w http.ResponseWriter, r *http.Request) {
	status := map[string]any{"broker": e.cfg.Dialer.Describe(), "connected": e.Connected(), "accepting_orders": e.Ready()}
	ready := e.Connected()
	if e.cfg.HasRole(engine.RoleAPI) {
		ready = e.Ready()
	}
	if !ready {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, status)
		return
	}
	writeJSON(w, http.StatusOK, status)
}
