package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/internal/brokertest"
)

// TestFaults runs the whole pipeline through a TCP fault proxy in front
// of RabbitMQ and, while orders flow at 60/s, injects one network fault
// for a few seconds: added latency, a bandwidth cap, connections reset,
// a half-open connection (the broker goes silent; heartbeats must notice),
// and a slow broker (confirms later than the API's 5 s deadline). In each,
// every order the API accepted ends (none lost, none duplicated; work
// redone after a lost connection is allowed and counted), orders refused
// meanwhile are refused with 503 (ErrUnavailable), and orders flow again
// after the fault. The time from the fault's end to the next confirmed
// order is logged: it is the recovery time.
func TestFaults(t *testing.T) {
	t.Parallel()
	const heartbeat = time.Second
	faults := []struct {
		name   string
		toxics []string // Toxiproxy toxics, as JSON
		hold   time.Duration
		// reconnects: the fault must make the engine reconnect.
		reconnects bool
		// restart: end the fault by restarting the proxy (its connections
		// drop) — Toxiproxy cannot remove a latency toxic from a busy link
		// in reasonable time (minutes at 6 s).
		restart bool
	}{
		{"latency", []string{`{"name":"l","type":"latency","stream":"downstream","attributes":{"latency":200}}`,
			`{"name":"lu","type":"latency","stream":"upstream","attributes":{"latency":200}}`}, 4 * time.Second, false, false},
		{"bandwidth", []string{`{"name":"b","type":"bandwidth","stream":"downstream","attributes":{"rate":20}}`}, 4 * time.Second, false, false},
		{"reset-peer", []string{`{"name":"r","type":"reset_peer","stream":"downstream","attributes":{"timeout":0}}`}, 2 * time.Second, true, false},
		{"half-open", []string{`{"name":"h","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`}, 3*heartbeat + 2*time.Second, true, false},
		// Confirms 6 s late, past the API's 5 s deadline: 503 indeterminate.
		{"slow-broker", []string{`{"name":"s","type":"latency","stream":"downstream","attributes":{"latency":6000}}`}, 7 * time.Second, false, true},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			proxy, viaProxy := brokertest.Proxy(t)
			hb := heartbeat
			if f.restart {
				hb = amqpbroker.DefaultHeartbeat // late frames are not silence
			}
			e := startEngine(t, amqpbroker.New(viaProxy, amqpbroker.WithHeartbeat(hb)), nil)
			load := startLoad(t, e, 60)

			time.Sleep(1500 * time.Millisecond)
			for _, tx := range f.toxics {
				if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(tx)); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(f.hold)
			removing := time.Now()
			if f.restart {
				proxy = brokertest.ReplaceProxy(t, proxy)
			}
			for _, tx := range f.toxics {
				if f.restart {
					break
				}
				name := tx[strings.Index(tx, `"name":"`)+8:]
				name = name[:strings.IndexByte(name, '"')]
				if err := proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
					t.Fatal(err)
				}
			}
			healed := time.Now()
			t.Logf("%s: removing the toxics took %v", f.name, healed.Sub(removing).Round(time.Millisecond))
			confirmedAt := e.Counts().Confirmed
			waitFor(t, 60*time.Second, "orders to be confirmed again after the fault", func() bool {
				return e.Counts().Confirmed > confirmedAt+20
			})
			recovery := time.Since(healed)
			time.Sleep(time.Second)
			accepted, refused, other := load.stop()

			c := waitSettled(t, e, 90*time.Second)
			snap := e.Snapshot()
			t.Logf("%s: accepted %d, refused 503 %d, recovered in %v (to 20 more confirmed), reconnects %d, counts %+v",
				f.name, accepted, refused, recovery.Round(time.Millisecond), snap.Broker.Reconnects, c)
			if other != nil {
				t.Errorf("a send failed with something other than 503: %v", other)
			}
			if c.Accepted != accepted || c.Open != 0 || c.Duplicated != 0 ||
				c.Confirmed+c.PaymentFailed+c.Refunded+c.DeadLettered != c.Accepted {
				t.Errorf("after %s: %+v with %d accepted by the API; want every accepted order ended once", f.name, c, accepted)
			}
			if f.reconnects && snap.Broker.Reconnects == 0 {
				t.Errorf("%s: the engine never reconnected", f.name)
			}
		})
	}
}

// load places orders at a steady rate on its own goroutine until stopped.
type load struct {
	cancel            context.CancelFunc
	wg                sync.WaitGroup
	accepted, refused atomic.Int64
	mu                sync.Mutex
	other             error
}

func startLoad(t *testing.T, e *Engine, perSecond int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := e.PlaceOrder(pctx, OrderRequest{ProductID: 1 + i%5, Quantity: 1, UserID: i})
				switch {
				case err == nil:
					l.accepted.Add(1)
				case errors.Is(err, ErrUnavailable):
					l.refused.Add(1)
				default:
					l.mu.Lock()
					l.other = err
					l.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

// stop ends the load, waits for every order in flight to be answered and
// returns the counts.
func (l *load) stop() (accepted, refused int64, other error) {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted.Load(), l.refused.Load(), l.other
}
