package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
	"oms-sim/engine/httpapi"
)

// HTTPDriver POSTs the seed demo's JSON to an order API: the in-process
// one, another oms-sim, or the original Flask demo. Every request carries
// an Idempotency-Key header, and an order the mix drew an Oms-Draw-Key
// (APIs that do not know them ignore them).
type HTTPDriver struct {
	URL    string // e.g. http://localhost:5000/api/orders
	Client *http.Client
}

var _ KeyedDriver = (*HTTPDriver)(nil)

// NewHTTPDriver returns a driver for base (a URL with or without the
// /api/orders path) with a client tuned for many concurrent requests.
func NewHTTPDriver(base string) *HTTPDriver {
	u := strings.TrimRight(base, "/")
	if !strings.HasSuffix(u, "/api/orders") {
		u += "/api/orders"
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	return &HTTPDriver{URL: u, Client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Errors of an order the API did not accept. Every non-2xx answer is a
// *RefusedError, which matches ErrRefused and, where the answer says
// more, one of the others (errors.Is).
var (
	// ErrRefused matches every non-2xx answer.
	ErrRefused = errors.New("order refused")
	// ErrShed is a 503 with reason backlog: admission control refused
	// the order and nothing was published. It is the engine's own error,
	// so the publish driver's errors compare alike.
	ErrShed = engine.ErrShed
	// ErrIndeterminate is a 503 with reason indeterminate: the broker did
	// not confirm in time and the order may still run (its id is in the
	// RefusedError). It is the engine's own error (which wraps
	// engine.ErrUnavailable), as the publish driver returns it.
	ErrIndeterminate = engine.ErrIndeterminate
	// ErrKeyInUse is a 409 with reason idempotency_key_in_use: a request
	// with the same key is being handled now. Worth retrying.
	ErrKeyInUse = errors.New("idempotency key in use")
	// ErrKeyMismatch is a 422 with reason idempotency_key_mismatch: the
	// key was used with another body, a bug in the driver. Not retried.
	ErrKeyMismatch = errors.New("idempotency key used with another order")
)

// RefusedError is a non-2xx answer from the order API.
type RefusedError struct {
	Status  int    // HTTP status code
	Reason  string // the body's reason (httpapi.ReasonBacklog, …), if any
	OrderID string // for reason indeterminate: the order that may run
	Message string // the body's error text, or the body itself
	// RetryAfter is the Retry-After header's wait; HasRetryAfter says
	// whether there was one (it may be 0).
	RetryAfter    time.Duration
	HasRetryAfter bool
}

// Error implements error.
func (e *RefusedError) Error() string {
	s := fmt.Sprintf("%v: %d %s", ErrRefused, e.Status, http.StatusText(e.Status))
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap lets errors.Is see ErrRefused and the answer's class.
func (e *RefusedError) Unwrap() []error {
	if c := e.class(); c != nil {
		return []error{c, ErrRefused}
	}
	return []error{ErrRefused}
}

// class maps the status and reason to a sentinel, or nil.
func (e *RefusedError) class() error {
	switch {
	case e.Status == http.StatusServiceUnavailable && e.Reason == httpapi.ReasonBacklog:
		return ErrShed
	case e.Status == http.StatusServiceUnavailable && e.Reason == httpapi.ReasonIndeterminate:
		return ErrIndeterminate
	case e.Status == http.StatusConflict && e.Reason == httpapi.ReasonKeyInUse:
		return ErrKeyInUse
	case e.Status == http.StatusUnprocessableEntity && e.Reason == httpapi.ReasonKeyMismatch:
		return ErrKeyMismatch
	}
	return nil
}

// Send implements Driver with a fresh key.
func (d *HTTPDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	return d.SendKeyed(ctx, req, uuid.Must(uuid.NewV7()).String())
}

// SendKeyed implements KeyedDriver. A 202 (accepted now) and a 200 (the
// key's order was accepted before: a replay with the same order id) are
// both success.
func (d *HTTPDriver) SendKeyed(ctx context.Context, req engine.OrderRequest, key string) (string, error) {
	body, err := json.Marshal(map[string]int{"product_id": req.ProductID, "quantity": req.Quantity, "user_id": req.UserID})
	if err != nil {
		return "", fmt.Errorf("encode order: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("order request: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", key)
	if req.DrawKey != "" {
		r.Header.Set(engine.HeaderDrawKey, req.DrawKey)
	}
	resp, err := d.Client.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", refusal(resp, raw)
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(raw, &out) // the seed's API answers without an id
	return out.OrderID, nil
}

// refusal reads a non-2xx answer: the engine's JSON error body when it
// is one, else the raw text.
func refusal(resp *http.Response, raw []byte) *RefusedError {
	e := &RefusedError{Status: resp.StatusCode}
	var body struct {
		Error   string `json:"error"`
		Reason  string `json:"reason"`
		OrderID string `json:"order_id"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		e.Message, e.Reason, e.OrderID = body.Error, body.Reason, body.OrderID
	} else {
		e.Message = strings.TrimSpace(string(raw))
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
			e.RetryAfter, e.HasRetryAfter = time.Duration(secs)*time.Second, true
		} else if at, err := http.ParseTime(v); err == nil {
			e.RetryAfter, e.HasRetryAfter = max(time.Until(at), 0), true
		}
	}
	return e
}

// Name implements Driver.
func (*HTTPDriver) Name() string { return DriverHTTP }
