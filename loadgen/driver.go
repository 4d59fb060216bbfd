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
	"strings"
	"time"

	"oms-sim/engine"
)

// Driver sends one order into the system under test.
type Driver interface {
	// Send places req and returns the order id the system gave it ("" if
	// it gives none, like the seed demo's API), or an error if the order
	// was not accepted.
	Send(ctx context.Context, req engine.OrderRequest) (orderID string, err error)
	// Name is "http" or "publish".
	Name() string
}

// Driver names.
const (
	DriverHTTP    = "http"
	DriverPublish = "publish"
)

// Placer is the part of the engine the publish driver needs.
type Placer interface {
	PlaceOrder(ctx context.Context, req engine.OrderRequest) (engine.Order, error)
}

// PublishDriver publishes order.created straight to the exchange with
// confirms, through the engine's publisher: no HTTP in the way, to stress
// the broker and the consumers only.
type PublishDriver struct{ P Placer }

// Send implements Driver.
func (d PublishDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	o, err := d.P.PlaceOrder(ctx, req)
	return o.OrderID, err
}

// Name implements Driver.
func (PublishDriver) Name() string { return DriverPublish }

// HTTPDriver POSTs the seed demo's JSON to an order API: the in-process
// one, another oms-sim, or the original Flask demo.
type HTTPDriver struct {
	URL    string // e.g. http://localhost:5000/api/orders
	Client *http.Client
}

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

// ErrRefused is returned for a non-2xx answer.
var ErrRefused = errors.New("order refused")

// Send implements Driver.
func (d *HTTPDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	body, _ := json.Marshal(map[string]int{"product_id": req.ProductID, "quantity": req.Quantity, "user_id": req.UserID})
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := d.Client.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%w: %s: %s", ErrRefused, resp.Status, strings.TrimSpace(string(raw)))
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(raw, &out) // the seed's API answers without an id
	return out.OrderID, nil
}

// Name implements Driver.
func (*HTTPDriver) Name() string { return DriverHTTP }
