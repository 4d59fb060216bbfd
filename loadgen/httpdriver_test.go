package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
	"oms-sim/engine/httpapi"
)

// answer is one scripted answer of a fake order API.
type answer struct {
	status     int
	body       string
	retryAfter string
}

func (a answer) write(w http.ResponseWriter) {
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func TestHTTPDriverClassifiesAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		a         answer
		id        string  // on success
		is        []error // the error matches all of these
		isNot     []error
		retry     bool
		wait      time.Duration // policy {backoff 100ms}, first resend
		reason    string
		refusedID string
	}{
		{name: "202 accepted", a: answer{202, `{"order_id": "o-1", "status": "pending"}`, ""}, id: "o-1"},
		{name: "200 replayed", a: answer{200, `{"order_id": "o-2", "status": "paid"}`, ""}, id: "o-2"},
		{name: "202 without id (seed API)", a: answer{202, `{"message": "ok"}`, ""}, id: ""},
		{name: "503 backlog", a: answer{503, `{"error": "queues full", "reason": "backlog", "backlog": 12, "max_backlog": 10}`, "1"},
			is: []error{ErrShed, ErrRefused}, isNot: []error{ErrIndeterminate}, retry: true, wait: time.Second, reason: httpapi.ReasonBacklog},
		{name: "503 indeterminate", a: answer{503, `{"error": "no confirm", "reason": "indeterminate", "order_id": "o-3"}`, "1"},
			is: []error{ErrIndeterminate, engine.ErrUnavailable, ErrRefused}, isNot: []error{ErrShed}, retry: true, wait: time.Second,
			reason: httpapi.ReasonIndeterminate, refusedID: "o-3"},
		{name: "503 unavailable, long Retry-After", a: answer{503, `{"error": "broker away", "reason": "unavailable"}`, "120"},
			is: []error{ErrRefused}, isNot: []error{ErrShed, ErrIndeterminate}, retry: true, wait: maxRetryWait, reason: httpapi.ReasonUnavailable},
		{name: "503 from a proxy, no header", a: answer{503, `Service Unavailable`, ""},
			is: []error{ErrRefused}, isNot: []error{ErrShed}, retry: true, wait: 100 * time.Millisecond},
		{name: "409 key in use", a: answer{409, `{"error": "in progress", "reason": "idempotency_key_in_use"}`, ""},
			is: []error{ErrKeyInUse, ErrRefused}, retry: true, wait: 100 * time.Millisecond, reason: httpapi.ReasonKeyInUse},
		{name: "409 something else", a: answer{409, `{"error": "stage not here"}`, ""},
			is: []error{ErrRefused}, isNot: []error{ErrKeyInUse}},
		{name: "422 key mismatch", a: answer{422, `{"error": "other body", "reason": "idempotency_key_mismatch"}`, ""},
			is: []error{ErrKeyMismatch, ErrRefused}, reason: httpapi.ReasonKeyMismatch},
		{name: "400 bad field", a: answer{400, `{"error": "unknown product", "field": "product_id"}`, ""},
			is: []error{ErrRefused}, isNot: []error{ErrShed, ErrKeyMismatch}},
	}
	policy := retryPolicy{max: 3, backoff: 100 * time.Millisecond}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var key string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				key = r.Header.Get("Idempotency-Key")
				tc.a.write(w)
			}))
			defer srv.Close()
			d := NewHTTPDriver(srv.URL)
			defer d.CloseIdleConnections()
			id, err := d.SendKeyed(context.Background(), engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}, "key-1")
			if key != "key-1" {
				t.Errorf("Idempotency-Key %q, want key-1", key)
			}
			if tc.is == nil {
				if err != nil || id != tc.id {
					t.Fatalf("got %q, %v; want %q", id, err, tc.id)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for %d", tc.a.status)
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("%v is not %v", err, want)
				}
			}
			for _, not := range tc.isNot {
				if errors.Is(err, not) {
					t.Errorf("%v is %v", err, not)
				}
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Status != tc.a.status || re.Reason != tc.reason || re.OrderID != tc.refusedID {
				t.Errorf("refusal %+v", re)
			}
			if got := retryable(err); got != tc.retry {
				t.Errorf("retryable = %v, want %v", got, tc.retry)
			}
			if tc.retry {
				if got := policy.wait(err, 1); got != tc.wait {
					t.Errorf("wait %v, want %v", got, tc.wait)
				}
			}
		})
	}
}

func TestHTTPDriverSendUsesFreshKeys(t *testing.T) {
	t.Parallel()
	keys := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		answer{202, `{"order_id": "x"}`, ""}.write(w)
	}))
	defer srv.Close()
	d := NewHTTPDriver(srv.URL)
	defer d.CloseIdleConnections()
	for range 2 {
		if _, err := d.Send(context.Background(), engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := <-keys, <-keys
	if a == b {
		t.Errorf("two orders sent with the same key %q", a)
	}
	for _, k := range []string{a, b} {
		if u, err := uuid.Parse(k); err != nil || u.Version() != 7 {
			t.Errorf("key %q is not a UUIDv7: %v", k, err)
		}
	}
}

func TestRetryWaitWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	p := retryPolicy{max: 10, backoff: 100 * time.Millisecond}
	transport := errors.New("connection reset")
	if !retryable(transport) || retryable(nil) {
		t.Error("a transport error is retryable, no error is not")
	}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: maxRetryWait} {
		if got := p.wait(transport, n); got != want {
			t.Errorf("resend %d: wait %v, want %v", n, got, want)
		}
	}
	zero := &RefusedError{Status: 503, HasRetryAfter: true}
	if got := p.wait(zero, 3); got != 0 {
		t.Errorf("Retry-After: 0 waits %v", got)
	}
}

// TestHTTPDriverSendsTheSeedBody checks the request as an order API sees
// it: the seed demo's JSON (as encoding/json writes it), the headers and
// the path added to a bare base URL.
func TestHTTPDriverSendsTheSeedBody(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, ctype, key, draw, body string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get(engine.HeaderIdempotencyKey),
			r.Header.Get(engine.HeaderDrawKey), string(b)}
		answer{202, `{"order_id": "o-9"}`, ""}.write(w)
	}))
	defer srv.Close()
	d := NewHTTPDriver(srv.URL + "/")
	defer d.CloseIdleConnections()
	req := engine.OrderRequest{ProductID: 12, Quantity: 3, UserID: 4567, DrawKey: "d-1"}
	id, err := d.SendKeyed(context.Background(), req, "k-1")
	if err != nil || id != "o-9" {
		t.Fatalf("got %q, %v", id, err)
	}
	want, _ := json.Marshal(map[string]int{"product_id": 12, "quantity": 3, "user_id": 4567})
	s := <-got
	if s != (seen{"POST", "/api/orders", "application/json", "k-1", "d-1", string(want)}) {
		t.Errorf("request %+v, want body %s", s, want)
	}
}

// TestHTTPDriverResendsOnAStaleConnection: a server that closes a
// kept-alive connection when the next request arrives, without answering.
// The driver resends that request once on a new connection (it carries an
// Idempotency-Key); a server that never answers fails the send.
func TestHTTPDriverResendsOnAStaleConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns, requests atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					requests.Add(1)
					if n == 1 {
						return // the second request on a connection: close it unanswered
					}
					body := `{"order_id": "o-1"}`
					fmt.Fprintf(c, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				}
			}()
		}
	}()
	d := NewHTTPDriver("http://" + ln.Addr().String())
	defer d.CloseIdleConnections()
	for i := range 2 {
		if _, err := d.SendKeyed(context.Background(), engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}, "k"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if c, r := conns.Load(), requests.Load(); c != 2 || r != 3 {
		t.Errorf("%d connections and %d requests, want 2 and 3 (the second send resent once)", c, r)
	}
}

// TestHTTPDriverDeadline: a send is bounded by its context's deadline and
// fails with an error that says so and is retryable; a cancelled context
// sends nothing.
func TestHTTPDriverDeadline(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	d := NewHTTPDriver(srv.URL)
	defer d.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := d.SendKeyed(ctx, engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}, "k")
	if !errors.Is(err, context.DeadlineExceeded) || !retryable(err) || !strings.Contains(err.Error(), "POST "+srv.URL+"/api/orders") {
		t.Errorf("error %v: want a retryable deadline error naming the request", err)
	}
	gone, stop := context.WithCancel(context.Background())
	stop()
	if _, err := d.SendKeyed(gone, engine.OrderRequest{ProductID: 1, Quantity: 1, UserID: 1}, "k2"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
}

// FuzzAnswerOrderID: the order id read from an answer is what
// encoding/json reads, whichever path reads it.
func FuzzAnswerOrderID(f *testing.F) {
	f.Add([]byte("{\n  \"created_at\": \"2026-11-30T18:03:40.447239342Z\",\n  \"message\": \"Order placed successfully\",\n  \"order_id\": \"01a22da0-761f-73a3-a6d3-7475f5b1750f\",\n  \"product_id\": 1,\n  \"quantity\": 1,\n  \"status\": \"pending\",\n  \"user_id\": 2\n}\n"))
	f.Add([]byte(`{"message": "Order placed successfully"}`))
	f.Add([]byte(`{"order_id": "a\u0062", "order": {"order_id": "x"}}`))
	f.Add([]byte(`{"Order_ID": "x", "order_id": "y"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want struct {
			OrderID string `json:"order_id"`
		}
		if json.Unmarshal(raw, &want) != nil {
			return // not JSON: the id is whatever is left, as before
		}
		if got := answerOrderID(raw); got != want.OrderID {
			t.Fatalf("%q: order id %q, encoding/json %q", raw, got, want.OrderID)
		}
	})
}
