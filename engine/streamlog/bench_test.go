package streamlog

import (
	"sync/atomic"
	"testing"
	"time"

	"oms-sim/engine"
)

// BenchmarkAppendDeliver measures the events per second one process
// appends and a subscriber in another (a second Log) receives, through
// the broker on this machine. The 8 KiB case is the stream client's
// default socket buffer: on a loopback with a 64 KiB MTU it is smaller
// than one TCP segment and the consumer crawls.
//
//	go test ./engine/streamlog/ -run '^$' -bench AppendDeliver -benchtime 200000x
//
// socketCases are the socket buffer sizes the benchmarks compare.
var socketCases = []socketCase{{"socket=1MiB", 1 << 20}, {"socket=8KiB", 8 << 10}}

type socketCase struct {
	name   string
	socket int
}

// events bounds a run of n events: with a buffer smaller than the
// loopback's 64 KiB segments, 2000 take about 5 s at the rate it reaches.
func (c socketCase) events(n int) int {
	if c.socket < 64<<10 {
		return min(n, 2000)
	}
	return n
}

func BenchmarkAppendDeliver(b *testing.B) {
	for _, bc := range socketCases {
		b.Run(bc.name, func(b *testing.B) {
			n := bc.events(b.N)
			cfg := testConfig(b, testURL())
			cfg.SocketBuffer = bc.socket
			cfg.Logger = nil
			writer := openLog(b, cfg)
			reader := openLog(b, cfg)
			var got atomic.Int64
			done := make(chan struct{})
			reader.Subscribe(func(engine.Event) {
				if got.Add(1) == int64(n) {
					close(done)
				}
			})
			ev := event("bench-run", "ord-000123456", 0)
			ev.Type, ev.Stage, ev.Worker, ev.Detail = "payment.started", "payment", "payment-3", "attempt 1"

			b.ResetTimer()
			start := time.Now()
			for range n {
				// Keep within the buffer: measure throughput, not drops.
				for writer.pend.len() >= writer.cfg.Buffer {
					time.Sleep(100 * time.Microsecond)
				}
				writer.Append(ev)
			}
			appendTime := time.Since(start)
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatalf("delivered %d of %d", got.Load(), n)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op") // n may be capped below b.N
			b.ReportMetric(float64(n)/appendTime.Seconds(), "appended/s")
			b.ReportMetric(float64(n)/elapsed.Seconds(), "delivered/s")
			if st := writer.Stats(); st.Dropped != 0 {
				b.Errorf("dropped %d", st.Dropped)
			}
		})
	}
}

// BenchmarkAppend is the cost of Append to the caller (an engine
// worker): encoding and queueing, not the network. Pending events are
// discarded as they come, standing in for a producer that keeps up.
func BenchmarkAppend(b *testing.B) {
	l := &Log{pend: newPending(1000), log: testLogger(b)}
	ev := event("bench-run", "ord-000123456", 0)
	ev.Order = &engine.Order{OrderID: ev.OrderID, ProductID: 7, Quantity: 2, UserID: 42, AmountCents: 1999, CreatedAt: time.Now()}
	var i atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Append(ev)
			if i.Add(1)%500 == 0 {
				l.pend.clear()
			}
		}
	})
	if d := l.Stats().Dropped; d != 0 {
		b.Errorf("dropped %d", d)
	}
}

// BenchmarkReadBack measures the consumer alone: reading a stream filled
// beforehand from its start, as `oms-sim trace` does. This is where the
// client's default 8 KiB socket buffer hurts most.
func BenchmarkReadBack(b *testing.B) {
	for _, bc := range socketCases {
		b.Run(bc.name, func(b *testing.B) {
			n := bc.events(b.N)
			cfg := testConfig(b, testURL())
			cfg.Logger = nil
			writer := openLog(b, cfg)
			ev := event("bench-run", "ord-000123456", 0)
			for range n {
				for writer.pend.len() >= writer.cfg.Buffer {
					time.Sleep(100 * time.Microsecond)
				}
				writer.Append(ev)
			}
			if err := writer.Close(); err != nil {
				b.Fatal(err)
			}
			cfg.SocketBuffer = bc.socket
			b.ResetTimer()
			start := time.Now()
			got, err := ReadBack(b.Context(), cfg, 0, func(engine.Event) bool { return true })
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != n {
				b.Fatalf("read %d of %d", len(got), n)
			}
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op") // n may be capped below b.N
			b.ReportMetric(float64(n)/elapsed.Seconds(), "read/s")
		})
	}
}
