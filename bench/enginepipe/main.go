// Command enginepipe measures the engine's three stages end to end: it runs
// the engine in-process on RabbitMQ (in its own namespace), publishes
// order.created straight to the namespaced orders exchange the way the API
// would, and counts the engine's confirmed events. Output matches refpipe.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/bench/internal/benchkit"
	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
)

type config struct {
	url, queueType, cpuProfile     string
	memProfile                     string
	connections                    string
	workers, prefetch, inflight    int
	bodyBytes                      int
	persistent                     bool
	writeBatch                     bool
	orders, rssEvery               int64
	rate                           float64
	warmup, duration, drainTimeout time.Duration
	jsonOut, progress              bool
}

type run struct {
	cfg                   config
	winStart, winEnd      time.Time
	published, completed  atomic.Int64
	publishedWin, doneWin atomic.Int64
	nacked, others        atomic.Int64 // broker nacks; retried/dead/declined/redelivered events
	mu                    sync.Mutex
	hist                  *hdrhistogram.Histogram // µs, completions in the window
}

func (r *run) inWindow(t time.Time) bool { return !t.Before(r.winStart) && t.Before(r.winEnd) }

func must(err error, what string) {
	if err != nil {
		log.Fatalf("enginepipe: %s: %v", what, err)
	}
}

// onEvent counts terminal completions. The order id carries the intended
// publish time (unix ns after the last '-'), so no per-order state is kept.
func (r *run) onEvent(ev engine.Event) {
	switch ev.Type {
	case engine.EventConfirmed:
	case engine.EventPaid, engine.EventStockTaken, engine.EventAccepted:
		return
	default:
		r.others.Add(1)
		return
	}
	r.completed.Add(1)
	if !r.inWindow(ev.Time) {
		return
	}
	r.doneWin.Add(1)
	i := strings.LastIndexByte(ev.OrderID, '-')
	sent, err := strconv.ParseInt(ev.OrderID[i+1:], 10, 64)
	if err != nil {
		return
	}
	r.mu.Lock()
	_ = r.hist.RecordValue((ev.Time.UnixNano() - sent) / 1000)
	r.mu.Unlock()
}

// publish sends order.created messages built exactly like Engine.message
// (body size and delivery mode included),
// with at most --inflight unconfirmed, until stopAt or --orders are sent.
func (r *run) publish(ctx context.Context, ch *amqp.Channel, exchange string, stopAt time.Time) {
	slots := make(chan struct{}, r.cfg.inflight)
	fifo := make(chan *amqp.DeferredConfirmation, r.cfg.inflight)
	confirmerDone := make(chan struct{})
	go func() {
		defer close(confirmerDone)
		for dc := range fifo {
			ok := dc.Wait()
			<-slots
			if !ok {
				r.nacked.Add(1)
				continue
			}
			r.published.Add(1)
			if r.inWindow(time.Now()) {
				r.publishedWin.Add(1)
			}
		}
	}()
	prefix := fmt.Sprintf("b%d-%s-", os.Getpid(), strconv.FormatInt(time.Now().UnixNano(), 36))
	start := time.Now()
	for i := int64(0); r.cfg.orders == 0 || i < r.cfg.orders; i++ {
		intended := time.Time{}
		if r.cfg.rate > 0 {
			intended = start.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.rate))
			if d := time.Until(intended); d > 0 {
				time.Sleep(d)
			}
		}
		slots <- struct{}{}
		now := time.Now()
		if (r.cfg.orders == 0 && !now.Before(stopAt)) || ctx.Err() != nil {
			<-slots
			break
		}
		if intended.IsZero() {
			intended = now
		}
		o := engine.Order{OrderID: prefix + strconv.FormatInt(i, 10) + "-" + strconv.FormatInt(intended.UnixNano(), 10),
			ProductID: 1 + int(i%50), Quantity: 1, UserID: 100 + int(i%1000), CreatedAt: now.UTC()}
		body := o.AppendJSONPadded(nil, r.cfg.bodyBytes)
		mode := amqp.Persistent
		if !r.cfg.persistent {
			mode = amqp.Transient
		}
		dc, err := ch.PublishWithDeferredConfirm(exchange, engine.KeyOrderCreated, false, false, amqp.Publishing{
			ContentType: "application/json", DeliveryMode: mode,
			MessageId: o.OrderID + ":" + engine.KeyOrderCreated, CorrelationId: o.OrderID, Timestamp: now,
			Headers: amqp.Table{engine.HeaderPublishedAt: now.UnixNano(), engine.HeaderAttempt: int64(1)},
			Body:    body})
		must(err, "publish order.created")
		fifo <- dc
	}
	close(fifo)
	<-confirmerDone
}

type rssSample struct {
	Completed int64   `json:"completed"`
	RSSMiB    float64 `json:"rss_mib"`
	HeapMiB   float64 `json:"heap_inuse_mib"`
	Goroutine int     `json:"goroutines"`
}

// sampleRSS records RSS each time another rssEvery orders have completed.
func (r *run) sampleRSS(stop <-chan struct{}, out *[]rssSample) {
	next := r.cfg.rssEvery
	for {
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if c := r.completed.Load(); c >= next {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			s := rssSample{c, benchkit.RSSMiB(), float64(ms.HeapInuse) / (1 << 20), runtime.NumGoroutine()}
			*out = append(*out, s)
			if !r.cfg.jsonOut {
				fmt.Fprintf(os.Stderr, "completed %8d  rss %7.1f MiB  heap in use %7.1f MiB  goroutines %d\n", s.Completed, s.RSSMiB, s.HeapMiB, s.Goroutine)
			}
			next = (c/r.cfg.rssEvery + 1) * r.cfg.rssEvery
		}
	}
}

type result struct {
	Program        string      `json:"program"`
	QueueType      string      `json:"queue_type"`
	Workers        int         `json:"workers"`
	Prefetch       int         `json:"prefetch"`
	Inflight       int         `json:"inflight"`
	BodyBytes      int         `json:"body_bytes"`
	Persistent     bool        `json:"persistent"`
	Connections    string      `json:"connections"`
	Rate           float64     `json:"rate"`
	DurationS      float64     `json:"duration_s"`
	CompletedPerS  float64     `json:"completed_per_s"`
	PublishedPerS  float64     `json:"published_per_s"`
	CompletedWin   int64       `json:"completed_in_window"`
	PublishedWin   int64       `json:"published_in_window"`
	P50Ms          float64     `json:"p50_ms"`
	P90Ms          float64     `json:"p90_ms"`
	P99Ms          float64     `json:"p99_ms"`
	MaxMs          float64     `json:"max_ms"`
	PublishedTotal int64       `json:"published_total"`
	CompletedTotal int64       `json:"completed_total"`
	OtherEvents    int64       `json:"other_events"`
	Drained        bool        `json:"drained"`
	DrainMs        float64     `json:"drain_ms"`
	AllocKBPerOrd  float64     `json:"alloc_kib_per_order"` // whole process, whole run
	MallocsPerOrd  float64     `json:"mallocs_per_order"`
	GCCycles       uint32      `json:"gc_cycles"`
	RSS            []rssSample `json:"rss,omitempty"`
}

func main() {
	var c config
	flag.StringVar(&c.url, "amqp", cmp.Or(os.Getenv("OMS_AMQP_URL"), "amqp://guest:guest@localhost:5672/"), "AMQP URL")
	flag.StringVar(&c.queueType, "queue-type", "classic", "queue type: classic|quorum")
	flag.IntVar(&c.workers, "workers", engine.DefaultWorkers, "workers per stage (all stages)")
	flag.IntVar(&c.bodyBytes, "body-bytes", 0, "pad every message body to N bytes (0: the order JSON as it is)")
	flag.BoolVar(&c.persistent, "persistent", true, "persistent messages (delivery mode 2); false: transient")
	flag.BoolVar(&c.writeBatch, "write-batch", true, "group each connection's frames into fewer write syscalls (amqpbroker.WithWriteBatching)")
	flag.StringVar(&c.connections, "connections", engine.ConnPerStage, "engine connection layout: per-stage|per-worker|shared")
	flag.IntVar(&c.prefetch, "prefetch", engine.DefaultPrefetch, "prefetch per worker")
	flag.IntVar(&c.inflight, "inflight", 100, "publisher: max unconfirmed order.created messages")
	flag.Float64Var(&c.rate, "rate", 0, "publisher: orders per second on an absolute schedule (0 = as fast as possible)")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "warm-up, not measured")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measured window")
	flag.Int64Var(&c.orders, "orders", 0, "publish exactly N orders instead of --duration (window = whole run after warm-up)")
	flag.Int64Var(&c.rssEvery, "rss-every", 0, "sample RSS every N completed orders (0 = off)")
	flag.DurationVar(&c.drainTimeout, "drain-timeout", 60*time.Second, "max wait for in-flight orders at the end (0 = do not wait, e.g. for a deliberately overloaded run)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to FILE")
	flag.StringVar(&c.memProfile, "memprofile", "", "write an allocation profile of the whole run to FILE (go tool pprof -sample_index=alloc_objects)")
	flag.BoolVar(&c.jsonOut, "json", false, "print one JSON object")
	flag.BoolVar(&c.progress, "progress", false, "print queue depths and in-flight per stage every second (stderr)")
	flag.Parse()
	if (c.queueType != "classic" && c.queueType != "quorum") || c.workers < 1 || c.prefetch < 1 ||
		c.inflight < 1 || c.rate < 0 || c.duration <= 0 || c.warmup < 0 || c.orders < 0 || c.rssEvery < 0 {
		log.Fatal("enginepipe: invalid flags (see -h)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	sc := engine.DefaultStageConfig()
	sc.Workers, sc.Prefetch = c.workers, c.prefetch
	e, err := engine.New(engine.Config{
		Dialer: amqpbroker.New(c.url, amqpbroker.WithWriteBatching(c.writeBatch)), QueueType: c.queueType, Namespace: benchkit.Namespace(), Process: "enginepipe",
		BodyBytes: c.bodyBytes, Transient: !c.persistent, Connections: c.connections,
		Roles:  []string{engine.StagePayment, engine.StageInventory, engine.StageEmail},
		Stages: map[string]engine.StageConfig{engine.StagePayment: sc, engine.StageInventory: sc, engine.StageEmail: sc},
	})
	must(err, "engine config")
	must(e.Start(ctx), "engine start")
	names := e.Names()
	r := &run{cfg: c, hist: hdrhistogram.New(1, 120_000_000, 3)}

	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("enginepipe-publisher")
	// Of a list of nodes (a cluster), the harness publishes through the
	// first; the engine gets the whole list.
	conn, err := amqp.DialConfig(broker.SplitURLs(c.url)[0], amqp.Config{Properties: props})
	must(err, "dial")
	ch, err := conn.Channel()
	must(err, "channel")
	must(ch.Confirm(false), "confirm mode")

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		must(err, "cpuprofile")
		must(pprof.StartCPUProfile(f), "start cpu profile")
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if c.memProfile != "" {
		defer func() {
			f, err := os.Create(c.memProfile)
			must(err, "memprofile")
			must(pprof.Lookup("allocs").WriteTo(f, 0), "write memprofile")
			f.Close()
		}()
	}
	var samples []rssSample
	stopRSS, rssDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(rssDone)
		if c.rssEvery > 0 {
			r.sampleRSS(stopRSS, &samples)
		}
	}()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	r.winStart = start.Add(c.warmup)
	r.winEnd = r.winStart.Add(c.duration)
	if c.orders > 0 {
		r.winEnd = start.Add(100 * 365 * 24 * time.Hour) // until the end; fixed below
	}
	unsubscribe := e.Subscribe(r.onEvent) // after the window is set: Subscribe locks
	if c.progress {
		go benchkit.Progress(e, r.completed.Load, stopRSS)
	}
	r.publish(ctx, ch, names.Of(engine.ExchangeOrders), r.winEnd)
	pubEnd := time.Now()

	drainStart := time.Now()
	drained := false
	for deadline := drainStart.Add(c.drainTimeout); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(5 * time.Millisecond) {
		if r.completed.Load() >= r.published.Load() {
			drained = true
			break
		}
	}
	drainDur := time.Since(drainStart)
	runtime.ReadMemStats(&m1)
	n := float64(max(r.completed.Load(), 1))
	close(stopRSS)
	<-rssDone
	unsubscribe()
	_ = conn.Close()
	_ = e.Close()
	if err := benchkit.Cleanup(broker.SplitURLs(c.url)[0], names, c.queueType); err != nil {
		log.Printf("enginepipe: %v", err)
	}

	window := c.duration
	if c.orders > 0 { // whole run after warm-up, up to the last completion
		window = max(pubEnd.Add(drainDur).Sub(r.winStart), time.Millisecond)
	}
	secs := window.Seconds()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	res := result{
		Program: "enginepipe", QueueType: c.queueType, Workers: c.workers, Prefetch: c.prefetch, Inflight: c.inflight,
		BodyBytes: c.bodyBytes, Persistent: c.persistent, Connections: c.connections,
		Rate: c.rate, DurationS: secs,
		CompletedPerS: float64(r.doneWin.Load()) / secs, PublishedPerS: float64(r.publishedWin.Load()) / secs,
		CompletedWin: r.doneWin.Load(), PublishedWin: r.publishedWin.Load(),
		P50Ms: ms(r.hist.ValueAtQuantile(50)), P90Ms: ms(r.hist.ValueAtQuantile(90)),
		P99Ms: ms(r.hist.ValueAtQuantile(99)), MaxMs: ms(r.hist.Max()),
		PublishedTotal: r.published.Load(), CompletedTotal: r.completed.Load(), OtherEvents: r.others.Load(),
		Drained: drained, DrainMs: float64(drainDur.Microseconds()) / 1000, RSS: samples,
		AllocKBPerOrd: float64(m1.TotalAlloc-m0.TotalAlloc) / 1024 / n, MallocsPerOrd: float64(m1.Mallocs-m0.Mallocs) / n,
		GCCycles: m1.NumGC - m0.NumGC,
	}
	if n := r.nacked.Load(); n > 0 {
		log.Printf("enginepipe: %d publishes nacked by the broker", n)
	}
	if c.jsonOut {
		must(json.NewEncoder(os.Stdout).Encode(res), "encode")
	} else {
		fmt.Printf("enginepipe  queue-type=%s workers=%d prefetch=%d inflight=%d body-bytes=%d persistent=%v connections=%s rate=%g (0=max) warmup=%s window=%.1fs\n"+
			"completed  %9.1f orders/s  (%d in window)\npublished  %9.1f orders/s  (%d in window)\n"+
			"e2e latency  p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\ndrain  %d/%d completed in %.0fms (drained=%v), other events %d\nalloc  %.1f KiB and %.0f objects per order, %d GC cycles\n",
			c.queueType, c.workers, c.prefetch, c.inflight, c.bodyBytes, c.persistent, c.connections, c.rate, c.warmup, secs,
			res.CompletedPerS, res.CompletedWin, res.PublishedPerS, res.PublishedWin,
			res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs, res.CompletedTotal, res.PublishedTotal, res.DrainMs, drained, res.OtherEvents,
			res.AllocKBPerOrd, res.MallocsPerOrd, res.GCCycles)
	}
	if !drained && c.drainTimeout > 0 {
		os.Exit(1)
	}
}
