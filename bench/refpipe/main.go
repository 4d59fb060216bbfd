// Command refpipe is a minimal reference pipeline written only with amqp091-go:
// the throughput baseline the engine is compared against. See README.md.
package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	amqp "github.com/rabbitmq/amqp091-go"
)

const exchange = "ref.orders"

type stage struct{ name, queue, bindKey, nextKey string }

var stages = []stage{
	{"payment", "ref.payment", "order.created", "payment.success"},
	{"inventory", "ref.inventory", "payment.success", "inventory.updated"},
	{"email", "ref.email", "inventory.updated", "email.sent"}, // email.sent is unrouted
}

type order struct {
	OrderID     string `json:"order_id"`
	ProductID   int    `json:"product_id"`
	Quantity    int    `json:"quantity"`
	UserID      int    `json:"user_id"`
	AmountCents int    `json:"amount_cents"`
	CreatedAt   string `json:"created_at"`
}

type config struct {
	url, queueType                 string
	workers, prefetch, inflight    int
	rate                           float64
	warmup, duration, drainTimeout time.Duration
	jsonOut                        bool
}

// run holds the shared counters. Totals cover the whole run; *Win counters
// only events whose completion time falls inside [winStart, winEnd).
type run struct {
	cfg                   config
	winStart, winEnd      time.Time
	published, completed  atomic.Int64
	publishedWin, doneWin atomic.Int64
	nacked                atomic.Int64 // broker nacks of publishes (any hop)
}

func (r *run) inWindow(t time.Time) bool { return !t.Before(r.winStart) && t.Before(r.winEnd) }

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 120_000_000, 3) } // µs, up to 2 min

// watch makes a broker-side close (connection or channel exception) fatal
// instead of letting the run hang until the drain timeout.
func watch(what string, c chan *amqp.Error) {
	go func() {
		if e, ok := <-c; ok && e != nil {
			log.Fatalf("refpipe: %s closed: %v", what, e)
		}
	}()
}

func dial(url, name string) *amqp.Connection {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("refpipe-" + name)
	conn, err := amqp.DialConfig(url, amqp.Config{Properties: props})
	must(err, "dial "+url)
	watch("connection "+name, conn.NotifyClose(make(chan *amqp.Error, 1)))
	return conn
}

func must(err error, what string) {
	if err != nil {
		log.Fatalf("refpipe: %s: %v", what, err)
	}
}

// setupTopology (re)creates ref.*: deleting and re-declaring each queue empties
// it (a purge) and lets --queue-type change between runs; RabbitMQ refuses to
// re-declare an existing queue with another type.
func setupTopology(conn *amqp.Connection, queueType string) {
	ch, err := conn.Channel()
	must(err, "channel")
	must(ch.ExchangeDeclare(exchange, "topic", true, false, false, false, nil), "declare exchange")
	for _, s := range stages {
		_, err = ch.QueueDelete(s.queue, false, false, false)
		must(err, "delete "+s.queue)
		_, err = ch.QueueDeclare(s.queue, true, false, false, false, amqp.Table{"x-queue-type": queueType})
		must(err, "declare "+s.queue)
		must(ch.QueueBind(s.queue, s.bindKey, exchange, false, nil), "bind "+s.queue)
	}
	must(ch.Close(), "close setup channel")
}

// worker consumes one stage's queue on its own channel. The consume loop
// publishes the next hop and hands the deferred confirmation to the acker
// goroutine, which waits confirms in publish order and acks each delivery
// once its outgoing publish is confirmed (nack+requeue if the broker nacks).
type worker struct {
	ch   *amqp.Channel
	tag  string
	hist *hdrhistogram.Histogram // filled by the email stage only
	done chan struct{}
}

// message builds a persistent JSON publishing with the DESIGN.md §3 properties;
// origin (x-published-at, unix ns) is set once at order.created and carried on.
func message(orderID, key string, now time.Time, origin int64, body []byte) amqp.Publishing {
	return amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent,
		MessageId: orderID + ":" + key, CorrelationId: orderID, Timestamp: now,
		Headers: amqp.Table{"x-published-at": origin}, Body: body}
}

type pending struct {
	d      amqp.Delivery
	dc     *amqp.DeferredConfirmation
	origin int64 // x-published-at of the order.created publish
}

func (r *run) startWorker(conn *amqp.Connection, s stage, id int) *worker {
	ch, err := conn.Channel()
	must(err, "channel")
	watch(fmt.Sprintf("channel %s-%d", s.name, id), ch.NotifyClose(make(chan *amqp.Error, 1)))
	must(ch.Qos(r.cfg.prefetch, 0, false), "qos")
	must(ch.Confirm(false), "confirm mode")
	w := &worker{ch: ch, tag: fmt.Sprintf("refpipe-%s-%d", s.name, id), hist: newHist(), done: make(chan struct{})}
	last := s.nextKey == "email.sent"
	deliveries, err := ch.Consume(s.queue, w.tag, false, false, false, false, nil)
	must(err, "consume "+s.queue)
	pend := make(chan pending, r.cfg.prefetch) // never blocks: at most prefetch unacked
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		for p := range pend {
			if !p.dc.Wait() {
				r.nacked.Add(1)
				_ = p.d.Nack(false, true)
				continue
			}
			if err := p.d.Ack(false); err != nil {
				log.Printf("refpipe: ack: %v", err)
				continue
			}
			if last {
				now := time.Now()
				r.completed.Add(1)
				if r.inWindow(now) && p.origin > 0 {
					r.doneWin.Add(1)
					_ = w.hist.RecordValue((now.UnixNano() - p.origin) / 1000)
				}
			}
		}
	}()
	go func() {
		defer close(w.done)
		for d := range deliveries {
			var o order
			if err := json.Unmarshal(d.Body, &o); err != nil {
				_ = d.Nack(false, false) // undecodable: drop (no DLX in the reference)
				continue
			}
			origin, _ := d.Headers["x-published-at"].(int64)
			dc, err := ch.PublishWithDeferredConfirm(exchange, s.nextKey, false, false,
				message(o.OrderID, s.nextKey, time.Now(), origin, d.Body))
			if err != nil {
				log.Printf("refpipe: %s publish: %v", s.name, err)
				_ = d.Nack(false, true)
				continue
			}
			pend <- pending{d, dc, origin}
		}
		close(pend)
		<-ackerDone
	}()
	return w
}

// publish sends order.created until stopAt with at most --inflight unconfirmed
// messages, either flat out (rate 0) or on an absolute schedule.
func (r *run) publish(ch *amqp.Channel, stopAt time.Time) {
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
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	for i := int64(0); ; i++ {
		if r.cfg.rate > 0 {
			next := start.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.rate))
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
		slots <- struct{}{}
		now := time.Now()
		if !now.Before(stopAt) {
			<-slots
			break
		}
		id := runID + "-" + strconv.FormatInt(i, 10)
		body, _ := json.Marshal(order{OrderID: id, ProductID: 1 + int(i%50), Quantity: 2,
			UserID: 100 + int(i%1000), AmountCents: 3998, CreatedAt: now.UTC().Format(time.RFC3339Nano)})
		dc, err := ch.PublishWithDeferredConfirm(exchange, "order.created", false, false,
			message(id, "order.created", now, now.UnixNano(), body))
		must(err, "publish order.created")
		fifo <- dc
	}
	close(fifo)
	<-confirmerDone
}

type result struct {
	QueueType      string  `json:"queue_type"`
	Workers        int     `json:"workers"`
	Prefetch       int     `json:"prefetch"`
	Inflight       int     `json:"inflight"`
	Rate           float64 `json:"rate"`
	DurationS      float64 `json:"duration_s"`
	CompletedPerS  float64 `json:"completed_per_s"`
	PublishedPerS  float64 `json:"published_per_s"`
	CompletedWin   int64   `json:"completed_in_window"`
	PublishedWin   int64   `json:"published_in_window"`
	P50Ms          float64 `json:"p50_ms"`
	P90Ms          float64 `json:"p90_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	PublishedTotal int64   `json:"published_total"`
	CompletedTotal int64   `json:"completed_total"`
	Drained        bool    `json:"drained"`
	DrainMs        float64 `json:"drain_ms"`
}

func main() {
	var c config
	flag.StringVar(&c.url, "amqp", cmp.Or(os.Getenv("OMS_AMQP_URL"), "amqp://guest:guest@localhost:5672/"), "AMQP URL")
	flag.StringVar(&c.queueType, "queue-type", "classic", "queue type: classic|quorum")
	flag.IntVar(&c.workers, "workers", 2, "workers (channels) per stage")
	flag.IntVar(&c.prefetch, "prefetch", 300, "per-channel prefetch (Qos)")
	flag.IntVar(&c.inflight, "inflight", 100, "publisher: max unconfirmed order.created messages")
	flag.Float64Var(&c.rate, "rate", 0, "publisher: orders per second (0 = as fast as possible)")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "warm-up, not measured")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measured window")
	flag.DurationVar(&c.drainTimeout, "drain-timeout", 30*time.Second, "max wait for in-flight orders at the end")
	flag.BoolVar(&c.jsonOut, "json", false, "print one JSON object")
	flag.Parse()
	if (c.queueType != "classic" && c.queueType != "quorum") || c.workers < 1 || c.prefetch < 1 ||
		c.inflight < 1 || c.rate < 0 || c.duration <= 0 || c.warmup < 0 {
		log.Fatal("refpipe: invalid flags (see -h)")
	}

	setupConn := dial(c.url, "setup")
	setupTopology(setupConn, c.queueType)
	must(setupConn.Close(), "close setup connection")

	r := &run{cfg: c}
	var conns []*amqp.Connection
	var workers []*worker
	for _, s := range stages {
		conn := dial(c.url, s.name)
		conns = append(conns, conn)
		for i := 0; i < c.workers; i++ {
			workers = append(workers, r.startWorker(conn, s, i))
		}
	}
	pubConn := dial(c.url, "publisher")
	conns = append(conns, pubConn)
	pubCh, err := pubConn.Channel()
	must(err, "publisher channel")
	must(pubCh.Confirm(false), "publisher confirm mode")

	r.winStart = time.Now().Add(c.warmup)
	r.winEnd = r.winStart.Add(c.duration)
	r.publish(pubCh, r.winEnd)

	// Drain: every confirmed order must come out of the email stage.
	drainStart := time.Now()
	drained := false
	for deadline := drainStart.Add(c.drainTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if r.completed.Load() >= r.published.Load() {
			drained = true
			break
		}
	}
	drainDur := time.Since(drainStart)
	for _, w := range workers {
		_ = w.ch.Cancel(w.tag, false)
	}
	hist := newHist()
	for _, w := range workers {
		<-w.done
		hist.Merge(w.hist)
		_ = w.ch.Close()
	}
	for _, conn := range conns {
		_ = conn.Close()
	}

	secs := c.duration.Seconds()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	res := result{
		QueueType: c.queueType, Workers: c.workers, Prefetch: c.prefetch, Inflight: c.inflight,
		Rate: c.rate, DurationS: secs,
		CompletedPerS: float64(r.doneWin.Load()) / secs, PublishedPerS: float64(r.publishedWin.Load()) / secs,
		CompletedWin: r.doneWin.Load(), PublishedWin: r.publishedWin.Load(),
		P50Ms: ms(hist.ValueAtQuantile(50)), P90Ms: ms(hist.ValueAtQuantile(90)),
		P99Ms: ms(hist.ValueAtQuantile(99)), MaxMs: ms(hist.Max()),
		PublishedTotal: r.published.Load(), CompletedTotal: r.completed.Load(),
		Drained: drained, DrainMs: float64(drainDur.Microseconds()) / 1000,
	}
	if n := r.nacked.Load(); n > 0 {
		log.Printf("refpipe: %d publishes nacked by the broker", n)
	}
	if c.jsonOut {
		must(json.NewEncoder(os.Stdout).Encode(res), "encode")
	} else {
		fmt.Printf("refpipe  queue-type=%s workers=%d prefetch=%d inflight=%d rate=%g (0=max) warmup=%s duration=%s\n"+
			"completed  %9.1f orders/s  (%d in window)\npublished  %9.1f orders/s  (%d in window)\n"+
			"e2e latency  p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\ndrain  %d/%d completed in %.0fms (drained=%v)\n",
			c.queueType, c.workers, c.prefetch, c.inflight, c.rate, c.warmup, c.duration,
			res.CompletedPerS, res.CompletedWin, res.PublishedPerS, res.PublishedWin,
			res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs, res.CompletedTotal, res.PublishedTotal, res.DrainMs, drained)
	}
	if !drained {
		os.Exit(1)
	}
}
