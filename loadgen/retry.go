package loadgen

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// maxRetryWait caps one wait before a resend, whatever Retry-After asks
// for: a load generator that sleeps for minutes is no longer offering
// its schedule.
const maxRetryWait = 5 * time.Second

// retryPolicy is the scenario's retry section: how often and how soon an
// order the API did not accept is resent with the same key.
type retryPolicy struct {
	max     int
	backoff time.Duration
}

func retryPolicyOf(s *scenario.Scenario) retryPolicy {
	if s == nil {
		return retryPolicy{}
	}
	b := s.Retry.Backoff.Std()
	if b <= 0 {
		b = scenario.DefaultRetryBackoff.Std()
	}
	return retryPolicy{max: s.Retry.Max, backoff: b}
}

// retryable reports whether a failed send is worth resending with its
// key: a 503 (shed, broker away, or indeterminate), a 409 for a key being
// handled now, or no answer at all (a transport error or a timeout).
// Other refusals (400, 413, 422, …) would be refused again.
func retryable(err error) bool {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Status == 503 || errors.Is(err, ErrKeyInUse)
	}
	return err != nil
}

// wait returns how long to wait before resend number n (1-based) after
// err: the answer's Retry-After when it had one, else the backoff doubled
// for each earlier resend; at most maxRetryWait.
func (p retryPolicy) wait(err error, n int) time.Duration {
	var re *RefusedError
	if errors.As(err, &re) && re.HasRetryAfter {
		return min(re.RetryAfter, maxRetryWait)
	}
	d := p.backoff
	for i := 1; i < n && d < maxRetryWait; i++ {
		d *= 2
	}
	return min(d, maxRetryWait)
}

// attempt is what became of one arrival's send, retries included.
type attempt struct {
	orderID string
	err     error // the last answer's error; nil when accepted
	retries int   // resends after the first try
}

// idempotencyKey names one arrival for the API's Idempotency-Key: the
// run id and the arrival's draw key ("<run>/<seed>/<n>"), so a key says
// which run and arrival it is, and two runs never share one (an engine
// remembers keys for an hour: a second run with the same seed must place
// new orders, not be answered with the first run's). An arrival without a
// draw key (a replay of an old recording) gets a fresh UUIDv7.
func (r *Runner) idempotencyKey(req engine.OrderRequest) string {
	if req.DrawKey == "" {
		return uuid.Must(uuid.NewV7()).String()
	}
	return r.cfg.RunID + "/" + req.DrawKey
}

// deliver sends one order, resending it with the same Idempotency-Key
// while the policy allows and the answer is retryable. Each try is bounded
// by sendTimeout; a try already on its way is not cancelled with the run,
// but ctx ending stops further resends.
func (r *Runner) deliver(ctx context.Context, req engine.OrderRequest) attempt {
	kd, keyed := r.cfg.Driver.(KeyedDriver)
	send := r.cfg.Driver.Send
	if keyed {
		key := r.idempotencyKey(req)
		send = func(ctx context.Context, req engine.OrderRequest) (string, error) {
			return kd.SendKeyed(ctx, req, key)
		}
	}
	var a attempt
	for {
		tctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		a.orderID, a.err = send(tctx, req)
		cancel()
		if a.err == nil || !keyed || a.retries >= r.retry.max || !retryable(a.err) {
			return a
		}
		t := time.NewTimer(r.retry.wait(a.err, a.retries+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return a
		case <-t.C:
		}
		a.retries++
	}
}
