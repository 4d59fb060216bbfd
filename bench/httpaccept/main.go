// Command httpaccept measures how fast the engine's HTTP API accepts orders:
// it runs the engine in-process on RabbitMQ (in its own namespace) behind a
// real loopback listener and drives POST /api/orders from --conns concurrent
// keep-alive clients, each sending its next order as soon as the previous
// one is answered (closed loop). An order counts as accepted on 202, which
// the API sends only after the broker confirmed order.created.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"oms-sim/bench/internal/benchkit"
	"oms-sim/engine"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/httpapi"
)

type result struct {
	Program       string         `json:"program"`
	Keys          bool           `json:"idempotency_keys"`
	QueueType     string         `json:"queue_type"`
	Conns         int            `json:"conns"`
	APIOnly       bool           `json:"api_only"`
	Workers       int            `json:"workers"`
	Prefetch      int            `json:"prefetch"`
	DurationS     float64        `json:"duration_s"`
	AcceptedPerS  float64        `json:"accepted_per_s"`
	PublishedPerS float64        `json:"published_per_s"` // = accepted_per_s (202 means confirmed)
	CompletedPerS float64        `json:"completed_per_s"`
	P50Ms         float64        `json:"p50_ms"`
	P90Ms         float64        `json:"p90_ms"`
	P99Ms         float64        `json:"p99_ms"`
	MaxMs         float64        `json:"max_ms"`
	Accepted      int64          `json:"accepted_in_window"`
	Statuses      map[string]int `json:"statuses"` // every answer, whole run
}

func must(err error, what string) {
	if err != nil {
		log.Fatalf("httpaccept: %s: %v", what, err)
	}
}

func main() {
	url := flag.String("amqp", cmp.Or(os.Getenv("OMS_AMQP_URL"), "amqp://guest:guest@localhost:5672/"), "AMQP URL")
	queueType := flag.String("queue-type", "classic", "queue type: classic|quorum")
	conns := flag.Int("conns", 32, "concurrent keep-alive clients")
	apiOnly := flag.Bool("api-only", false, "run only the API role (orders pile up in the payment queue)")
	workers := flag.Int("workers", engine.DefaultWorkers, "workers per stage")
	prefetch := flag.Int("prefetch", engine.DefaultPrefetch, "prefetch per worker")
	warmup := flag.Duration("warmup", 3*time.Second, "warm-up, not measured")
	duration := flag.Duration("duration", 15*time.Second, "measured window")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to FILE")
	jsonOut := flag.Bool("json", false, "print one JSON object")
	keys := flag.Bool("idempotency-keys", false, "send an Idempotency-Key with every order (the API remembers them; default bound)")
	flag.Parse()
	if *conns < 1 || *workers < 1 || *prefetch < 1 || *duration <= 0 || *warmup < 0 {
		log.Fatal("httpaccept: invalid flags (see -h)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	sc := engine.DefaultStageConfig()
	sc.Workers, sc.Prefetch = *workers, *prefetch
	cfg := engine.Config{
		Dialer: amqpbroker.New(*url), QueueType: *queueType, Namespace: benchkit.Namespace(),
		Process: "httpaccept", Stages: map[string]engine.StageConfig{engine.StagePayment: sc, engine.StageInventory: sc, engine.StageEmail: sc},
	}
	if *apiOnly {
		cfg.Roles = []string{engine.RoleAPI}
	}
	if *keys {
		cfg.IdempotencyKeys = engine.DefaultIdempotencyKeys
	}
	e, err := engine.New(cfg)
	must(err, "engine config")
	must(e.Start(ctx), "engine start")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err, "listen")
	srv := &http.Server{Handler: httpapi.Handler(e)}
	go func() { _ = srv.Serve(ln) }()
	target := "http://" + ln.Addr().String() + "/api/orders"

	start := time.Now()
	winStart, winEnd := start.Add(*warmup), start.Add(*warmup+*duration)
	in := func(t time.Time) bool { return !t.Before(winStart) && t.Before(winEnd) }
	var completed atomic.Int64
	unsubscribe := e.Subscribe(func(ev engine.Event) {
		if ev.Type == engine.EventConfirmed && in(ev.Time) {
			completed.Add(1)
		}
	})
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		must(err, "cpuprofile")
		must(pprof.StartCPUProfile(f), "start cpu profile")
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	tr := &http.Transport{MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu       sync.Mutex
		hist     = hdrhistogram.New(1, 120_000_000, 3) // µs
		statuses = map[string]int{}
		accepted atomic.Int64
		wg       sync.WaitGroup
	)
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := hdrhistogram.New(1, 120_000_000, 3)
			counts := map[string]int{}
			for n := 0; ; n++ {
				t0 := time.Now()
				if !t0.Before(winEnd) || ctx.Err() != nil {
					break
				}
				body := fmt.Sprintf(`{"product_id":%d,"quantity":1,"user_id":%d}`, 1+(i+n)%50, 100+i)
				req, _ := http.NewRequest(http.MethodPost, target, bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				if *keys {
					req.Header.Set(engine.HeaderIdempotencyKey, fmt.Sprintf("%d-%d-%d", start.UnixNano(), i, n))
				}
				resp, err := client.Do(req)
				status := "error"
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = fmt.Sprint(resp.StatusCode)
				}
				counts[status]++
				t1 := time.Now()
				if status == "202" && in(t1) {
					accepted.Add(1)
					_ = local.RecordValue(t1.Sub(t0).Microseconds())
				}
			}
			mu.Lock()
			hist.Merge(local)
			for k, v := range counts {
				statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond) // let the last orders of the window complete
	unsubscribe()
	_ = srv.Close()
	_ = e.Close()
	if err := benchkit.Cleanup(*url, e.Names(), *queueType); err != nil {
		log.Printf("httpaccept: %v", err)
	}

	secs := duration.Seconds()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	res := result{Program: "httpaccept", Keys: *keys, QueueType: *queueType, Conns: *conns, APIOnly: *apiOnly,
		Workers: *workers, Prefetch: *prefetch, DurationS: secs,
		AcceptedPerS: float64(accepted.Load()) / secs, PublishedPerS: float64(accepted.Load()) / secs,
		CompletedPerS: float64(completed.Load()) / secs,
		P50Ms:         ms(hist.ValueAtQuantile(50)), P90Ms: ms(hist.ValueAtQuantile(90)),
		P99Ms: ms(hist.ValueAtQuantile(99)), MaxMs: ms(hist.Max()), Accepted: accepted.Load(), Statuses: statuses}
	if *jsonOut {
		must(json.NewEncoder(os.Stdout).Encode(res), "encode")
		return
	}
	fmt.Printf("httpaccept  queue-type=%s conns=%d api-only=%v workers=%d prefetch=%d warmup=%s duration=%s\n"+
		"accepted   %9.1f orders/s  (%d in window)\ncompleted  %9.1f orders/s\n"+
		"POST latency  p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\nanswers %v\n",
		*queueType, *conns, *apiOnly, *workers, *prefetch, *warmup, *duration, res.AcceptedPerS, res.Accepted,
		res.CompletedPerS, res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs, statuses)
}
