package loadgen

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"oms-sim/engine"
	"oms-sim/engine/httpapi"
)

// HTTPDriver POSTs the seed demo's JSON to an order API: the in-process
// one, another oms-sim, or the original Flask demo. Every request carries
// an Idempotency-Key header, and an order the mix drew an Oms-Draw-Key
// (APIs that do not know them ignore them).
//
// It writes each request and reads its answer in the calling goroutine,
// on a pool of kept-alive HTTP/1.1 connections, with fasthttp's request
// and response codec. net/http's client hands every request to two
// goroutines of its connection; on the product path, where the
// generator, the API and the stages share one process, those hand-offs
// cost CPU per order and queue the pacer behind them (bench/RESULTS.md
// §29). The driver starts no goroutine of its own.
type HTTPDriver struct {
	URL  string // e.g. http://localhost:5000/api/orders
	addr string // host:port to dial
	tls  *tls.Config
	dial net.Dialer

	mu   sync.Mutex
	idle []*httpConn // kept-alive connections, most recently used last
}

var _ KeyedDriver = (*HTTPDriver)(nil)

// Limits of the driver's connections.
const (
	maxIdleConns = 1024
	maxIdleTime  = 90 * time.Second
	// maxAnswer bounds the answer body read (an order API answers a few
	// hundred bytes; a larger body is an error page, of which the
	// refusal keeps the start).
	maxAnswer = 1 << 20
	// defaultSendTimeout bounds a send whose context has no deadline.
	defaultSendTimeout = 30 * time.Second
	dialTimeout        = 5 * time.Second
)

// NewHTTPDriver returns a driver for base (a URL with or without the
// /api/orders path; http or https).
func NewHTTPDriver(base string) *HTTPDriver {
	u := strings.TrimRight(base, "/")
	if !strings.HasSuffix(u, "/api/orders") {
		u += "/api/orders"
	}
	d := &HTTPDriver{URL: u, dial: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}}
	if pu, err := url.Parse(u); err == nil {
		port := cmp.Or(pu.Port(), "80")
		if pu.Scheme == "https" {
			port = cmp.Or(pu.Port(), "443")
			d.tls = &tls.Config{ServerName: pu.Hostname()}
		}
		d.addr = net.JoinHostPort(pu.Hostname(), port)
	}
	return d
}

// httpConn is one kept-alive connection with its buffers.
type httpConn struct {
	net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when its last answer was read
}

// conn returns an idle connection (reused true) or a new one.
func (d *HTTPDriver) conn(deadline time.Time) (c *httpConn, reused bool, err error) {
	now := time.Now()
	d.mu.Lock()
	for len(d.idle) > 0 {
		c = d.idle[len(d.idle)-1]
		d.idle = d.idle[:len(d.idle)-1]
		if now.Sub(c.used) < maxIdleTime {
			d.mu.Unlock()
			return c, true, nil
		}
		_ = c.Close()
	}
	d.mu.Unlock()
	if d.addr == "" {
		return nil, false, fmt.Errorf("bad order API URL %q", d.URL)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var nc net.Conn
	if d.tls != nil {
		nc, err = (&tls.Dialer{NetDialer: &d.dial, Config: d.tls}).DialContext(ctx, "tcp", d.addr)
	} else {
		nc, err = d.dial.DialContext(ctx, "tcp", d.addr)
	}
	if err != nil {
		return nil, false, err
	}
	return &httpConn{Conn: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096)}, false, nil
}

// release keeps c for the next request, or closes it when the pool is
// full.
func (d *HTTPDriver) release(c *httpConn) {
	c.used = time.Now()
	d.mu.Lock()
	if len(d.idle) < maxIdleConns {
		d.idle = append(d.idle, c)
		c = nil
	}
	d.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// CloseIdleConnections closes the driver's kept-alive connections.
func (d *HTTPDriver) CloseIdleConnections() {
	d.mu.Lock()
	idle := d.idle
	d.idle = nil
	d.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

// roundTrip writes req on c and reads its answer into resp, both before
// deadline.
func (c *httpConn) roundTrip(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if err := req.Write(c.bw); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	return resp.ReadLimitBody(c.br, maxAnswer)
}

// stale says whether err means a kept-alive connection had been closed
// by the server before this request reached it.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
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
// both success. The request is bounded by ctx's deadline (30 s without
// one); ctx's cancellation is seen before the request is written, not
// while it waits for its answer.
func (d *HTTPDriver) SendKeyed(ctx context.Context, req engine.OrderRequest, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultSendTimeout)
	}
	r, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(r)
	defer fasthttp.ReleaseResponse(resp)
	r.SetRequestURI(d.URL)
	r.Header.SetMethod(fasthttp.MethodPost)
	r.Header.SetContentType("application/json")
	r.Header.Set(engine.HeaderIdempotencyKey, key)
	if req.DrawKey != "" {
		r.Header.Set(engine.HeaderDrawKey, req.DrawKey)
	}
	var body [96]byte
	r.SetBody(orderBody(body[:0], req))
	for resent := false; ; resent = true {
		c, reused, err := d.conn(deadline)
		if err == nil {
			if err = c.roundTrip(r, resp, deadline); err == nil {
				if resp.ConnectionClose() {
					_ = c.Close()
				} else {
					d.release(c)
				}
				break
			}
			_ = c.Close()
			// A kept-alive connection the server had closed: send again,
			// once, on a new one (the Idempotency-Key makes that safe,
			// and net/http's client does the same).
			if reused && !resent && stale(err) {
				resp.Reset()
				continue
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, fasthttp.ErrTimeout) {
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return "", fmt.Errorf("POST %s: %w", d.URL, err)
	}
	raw := resp.Body()
	if code := resp.StatusCode(); code < 200 || code > 299 {
		return "", refusal(code, raw, string(resp.Header.Peek("Retry-After")))
	}
	return answerOrderID(raw), nil
}

// answerOrderID reads the order id of an accepted order's answer: the
// engine's flat JSON without reflection (encoding/json cost the product
// path as much CPU as the rest of the request), anything else through
// encoding/json; "" when there is none (the seed's API answers without).
func answerOrderID(raw []byte) string {
	if o, ok := engine.DecodeOrderFast(raw); ok {
		return o.OrderID
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(raw, &out)
	return out.OrderID
}

// orderBody appends the seed demo's JSON for req to b: the three fields
// in the order encoding/json writes a map's keys.
func orderBody(b []byte, req engine.OrderRequest) []byte {
	b = append(b, `{"product_id":`...)
	b = strconv.AppendInt(b, int64(req.ProductID), 10)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, int64(req.Quantity), 10)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, int64(req.UserID), 10)
	return append(b, '}')
}

// refusal reads a non-2xx answer: the engine's JSON error body when it
// is one, else the raw text (its first 64 KiB); retryAfter is the
// answer's Retry-After header, if any.
func refusal(status int, raw []byte, retryAfter string) *RefusedError {
	e := &RefusedError{Status: status}
	var body struct {
		Error   string `json:"error"`
		Reason  string `json:"reason"`
		OrderID string `json:"order_id"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		e.Message, e.Reason, e.OrderID = body.Error, body.Reason, body.OrderID
	} else {
		e.Message = strings.TrimSpace(string(raw[:min(len(raw), 64<<10)]))
	}
	if v := strings.TrimSpace(retryAfter); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			e.RetryAfter, e.HasRetryAfter = time.Duration(secs)*time.Second, true
		} else if at, err := http.ParseTime(v); err == nil {
			e.RetryAfter, e.HasRetryAfter = max(time.Until(at), 0), true
		}
	}
	return e
}

// Name implements Driver.
func (*HTTPDriver) Name() string { return DriverHTTP }
