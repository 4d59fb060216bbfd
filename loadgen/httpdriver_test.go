package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
			defer d.Client.CloseIdleConnections()
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
	defer d.Client.CloseIdleConnections()
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
