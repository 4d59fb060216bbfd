package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

func TestDrawIDPrefersTheDrawKey(t *testing.T) {
	t.Parallel()
	o := Order{OrderID: "0193-a", ProductID: 2, Quantity: 1, UserID: 9, CreatedAt: time.Now().UTC()}
	if o.drawID() != "0193-a" {
		t.Errorf("without a draw key: %q, want the order id", o.drawID())
	}
	o.DrawKey = "42/7"
	if o.drawID() != "42/7" {
		t.Errorf("with a draw key: %q, want it", o.drawID())
	}
	// The key travels in the body: encode, decode (fast path), same key.
	got, err := DecodeOrder(o.AppendJSON(nil))
	if err != nil || got.DrawKey != "42/7" {
		t.Errorf("round trip: %+v %v", got, err)
	}
}

// drawRecorder collects every service time the workers of one run draw,
// by the order's place in the run, stage, routing key and attempt. Which
// attempts and routing keys appear also shows the run's transient errors
// and declines (a declined order reaches email by payment.failed).
type drawRecorder struct {
	mu    sync.Mutex
	index map[string]int // draw id → the order's place in the run
	draws map[string]time.Duration
}

func newDrawRecorder() *drawRecorder {
	return &drawRecorder{index: map[string]int{}, draws: map[string]time.Duration{}}
}

func (r *drawRecorder) place(drawID string, i int) {
	r.mu.Lock()
	r.index[drawID] = i
	r.mu.Unlock()
}

func (r *drawRecorder) hook(o Order, stage, key string, attempt int64, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[o.drawID()]
	if !ok {
		i = -1 // a draw before PlaceOrder returned: placed below
		r.draws["early "+o.drawID()+" "+stage+" "+key+" "+fmt.Sprint(attempt)] = d
		return
	}
	r.draws[fmt.Sprintf("%d %s %s %d", i, stage, key, attempt)] = d
}

// settled moves draws recorded before their order's place was known.
func (r *drawRecorder) settled() map[string]time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Duration{}
	for k, d := range r.draws {
		if rest, ok := strings.CutPrefix(k, "early "); ok {
			id, tail, _ := strings.Cut(rest, " ")
			k = fmt.Sprintf("%d %s", r.index[id], tail)
		}
		out[k] = d
	}
	return out
}

// startDrawEngine is startEngineOn with the draw hook set before the
// workers start.
func startDrawEngine(t *testing.T, d broker.Dialer, log EventLog, hook func(Order, string, string, int64, time.Duration), mutate func(*Config)) *Engine {
	t.Helper()
	return startEngineBefore(t, d, log, mutate, func(e *Engine) {
		for _, s := range e.stages {
			s.deps.drawn = hook
		}
	})
}

// TestSameDrawKeySameDrawsAcrossRuns places the same 120 orders (same
// draw keys, new order ids each time) in three separate runs with the
// same seed: one process with one worker per stage; two processes (api
// and payment; inventory and email) with three workers per stage; and,
// as the control, one process without draw keys. The first two draw the
// same service time for every order, stage and attempt, retry the same
// orders and decline the same ones; the control does not.
func TestSameDrawKeySameDrawsAcrossRuns(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const n = 120
			stages := func(workers int) map[string]StageConfig {
				st, _ := ParseDist("uniform:0s,3ms")
				sc := StageConfig{Workers: workers, Prefetch: 10, ServiceTime: st, ErrorRate: 0.2}
				pay := sc
				pay.DeclineRate = 0.3
				return map[string]StageConfig{StagePayment: pay, StageInventory: sc, StageEmail: sc}
			}
			run := func(split, keyed bool, workers int) (map[string]time.Duration, OrderCounts) {
				rec := newDrawRecorder()
				d, log, ns := b.dial(t), NewMemoryLog(), testNamespace(t)
				api := startDrawEngine(t, d, log, rec.hook, func(c *Config) {
					c.Namespace, c.Process, c.Stages = ns, ns+"-front", stages(workers)
					c.Catalog = Catalog{Products: 5, Stock: 1_000_000}
					if split {
						c.Roles = []string{RoleAPI, StagePayment}
					}
				})
				if split {
					startDrawEngine(t, d, log, rec.hook, func(c *Config) {
						c.Namespace, c.Process, c.Stages = ns, ns+"-back", stages(workers)
						c.Catalog = Catalog{Products: 5, Stock: 1_000_000}
						c.Roles = []string{StageInventory, StageEmail}
					})
				}
				ids := map[string]bool{}
				for i := range n {
					req := OrderRequest{ProductID: 1 + i%5, Quantity: 1, UserID: i}
					if keyed {
						req.DrawKey = fmt.Sprintf("42/%d", i+1)
						rec.place(req.DrawKey, i)
					}
					o, err := api.PlaceOrder(context.Background(), req)
					if err != nil {
						t.Fatal(err)
					}
					ids[o.OrderID] = true
					if !keyed {
						rec.place(o.OrderID, i)
					}
				}
				waitFor(t, 60*time.Second, "every order to end", func() bool {
					c := api.Counts()
					return c.Confirmed+c.PaymentFailed+c.Refunded+c.DeadLettered == n
				})
				time.Sleep(200 * time.Millisecond) // a (wrong) extra draw would come now
				if len(ids) != n {
					t.Fatalf("%d distinct order ids for %d orders", len(ids), n)
				}
				return rec.settled(), api.Counts()
			}
			one, oneCounts := run(false, true, 1)
			two, twoCounts := run(true, true, 3)
			control, _ := run(false, false, 1)

			retried, declined := 0, 0
			for k, d := range one {
				if strings.HasSuffix(k, " 2") {
					retried++
				}
				if strings.Contains(k, StageEmail+" "+KeyPaymentFailed+" ") {
					declined++
				}
				if got, ok := two[k]; !ok {
					t.Errorf("%s: drawn %v in one process, never in two", k, d)
				} else if got != d {
					t.Errorf("%s: drawn %v in one process, %v in two", k, d, got)
				}
			}
			for k := range two {
				if _, ok := one[k]; !ok {
					t.Errorf("%s: drawn in two processes only", k)
				}
			}
			if oneCounts != twoCounts {
				t.Errorf("outcomes %+v in one process, %+v in two", oneCounts, twoCounts)
			}
			t.Logf("%d draws, %d second attempts, %d declines; outcomes %+v", len(one), retried, declined, oneCounts)
			// The test means something only if there was something to draw.
			if retried < 10 || declined < 10 {
				t.Errorf("%d second attempts and %d declines among %d orders: too few to compare", retried, declined, n)
			}
			// Without draw keys, the new order ids draw anew.
			same := 0
			for k, d := range one {
				if control[k] == d {
					same++
				}
			}
			t.Logf("without draw keys %d of %d draws matched", same, len(one))
			if same > len(one)/2 {
				t.Errorf("without draw keys %d of %d draws matched: the keys made no difference", same, len(one))
			}
		})
	}
}
