// Package streamlog is the engine's event log on a RabbitMQ stream
// (DESIGN.md §5): every process appends its lifecycle events to one
// stream, "oms.events", and reads everyone's back, so the trace store and
// end-to-end latency see a pipeline spread over many processes. It owns
// the stream's producer (batched, confirmed, buffered across reconnects
// and deduplicated by the broker), its consumer (resuming after the last
// offset it delivered) and the offline reader behind `oms-sim trace`.
package streamlog

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"

	"oms-sim/engine"
	"oms-sim/internal/backoff"
	"oms-sim/internal/outage"

	"oms-sim/engine/broker"
)

// Log is an engine.EventLog on a RabbitMQ stream. Append never blocks on
// the network; Subscribe sees every event in the stream from the moment
// the Log was opened, whoever appended it.
type Log struct {
	cfg      Config
	ep       endpoint
	log      *slog.Logger
	outage   *outage.Tracker // the stream going away and coming back, logged once each
	producer string          // the producer's name, for broker-side deduplication

	pend    *pending
	closing atomic.Bool
	runs    *Log // the run records' stream, or nil

	// Delivery: deliverMu serialises subscriber calls across consumer
	// generations; subs is copied on write so Subscribe may be called from
	// a subscriber.
	deliverMu sync.Mutex
	gen       int64 // consumer generation; calls from older ones are stale
	lastOff   int64 // offset of the last delivered event, -1 before any
	startedAt time.Time
	subsMu    sync.Mutex
	subs      atomic.Pointer[[]subscriber]
	nextSub   int

	appended, published, confirmed, dropped atomic.Int64
	delivered, undecodable, reconnects      atomic.Int64
	producerUp, consumerUp                  atomic.Bool

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var _ engine.EventLog = (*Log)(nil)

type subscriber struct {
	id int
	fn func(engine.Event)
}

// Stats counts what a Log did. Appended = Confirmed + Pending once
// nothing is in flight; Published exceeds Confirmed by what had to be
// sent again after a reconnection.
type Stats struct {
	Appended    int64 // accepted by Append
	Published   int64 // written to the broker, resends included
	Confirmed   int64 // confirmed stored by the broker
	Pending     int64 // accepted, not confirmed yet
	Dropped     int64 // refused by Append (buffer full, closed, unencodable) or lost at Close
	Delivered   int64 // read from the stream and handed to subscribers
	Undecodable int64 // read from the stream but not an event
	Reconnects  int64 // producer and consumer connections re-established
	Connected   bool  // producer and consumer both connected now
}

// Tuning of the producer, measured with BenchmarkAppendDeliver.
const (
	frameEvents = 2000 // events per publish frame
	// eventsPerMessage and maxMessageBytes bound one stream message.
	eventsPerMessage = 100
	// appPropProducer names the producer in each message's application
	// properties, so a Log can skip its own events when reading back.
	appPropProducer = "oms-producer"
	maxMessageBytes = 64 << 10
	// linger is how long the producer waits for a publish frame to fill
	// up; it delays other processes' view of an event by at most that.
	// The broker's cost is per frame (a chunk written, confirmed and sent
	// to every consumer), hardly per byte: on this 2-vCPU machine 170
	// frames a second of one 30 KB message took it 9.5 % of a core, 17
	// frames of ten such messages 2.2 % (bench/streamframes,
	// bench/RESULTS.md §11). A busy pipeline fills about ten frames a
	// second; the linger bounds how stale a quiet one's trace gets.
	linger = 100 * time.Millisecond
	// durableLinger replaces linger while a worker waits for its events
	// to be stored before it acks (Durable). The wait delays only the
	// ack, not the next stage (which has the message already), so it
	// costs unacked deliveries (rate × linger per stage, far below a
	// prefetch), not latency; and the broker's work is per frame. At
	// 3 400 orders/s with the broker on a core of its own, 10 ms took
	// 10 % off the broker's CPU per order against 2 ms, and 25 ms no
	// more (bench/RESULTS.md §29).
	durableLinger = 10 * time.Millisecond
	maxBatchBytes = 768 << 10 // bytes per publish frame (the frame max is 1 MiB)
	maxEventBytes = 128 << 10 // an event larger than this is dropped
	maxInflight   = 20_000    // unconfirmed events on the wire
	rpcTimeout    = 5 * time.Second
	flushTimeout  = 5 * time.Second
	stopTimeout   = 15 * time.Second
	runBuffer     = 1000 // run records awaiting confirmation (two a run)
)

// Open connects to the stream listener, declares the stream (keeping an
// existing one as it is), and starts the producer and a consumer that
// reads from the next event on. An unreachable broker fails fast with an
// error wrapping ErrUnreachable; so does a stream that cannot be set up
// within cfg.OpenTimeout or before ctx ends, whatever the client is
// doing (a session it opens after that is closed at once).
func Open(ctx context.Context, cfg Config) (*Log, error) {
	ep, err := prepare(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	return bounded(ctx, cfg.OpenTimeout, nil, "open event stream "+redact(cfg.URL),
		func() (*Log, error) { return open(ctx, cfg, ep) },
		func(l *Log) { _ = l.Close() })
}

// bounded runs connect in a goroutine of its own and waits for it at
// most d, or until ctx ends. The stream client's calls cannot be
// interrupted, so a connect that returns after that is discarded by
// that goroutine, which wg (if not nil) tracks.
func bounded[S any](ctx context.Context, d time.Duration, wg *sync.WaitGroup, what string, connect func() (S, error), discard func(S)) (S, error) {
	type result struct {
		s   S
		err error
	}
	done := make(chan result) // unbuffered: handed over, or discarded below
	abandon := make(chan struct{})
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		s, err := connect()
		select {
		case done <- result{s, err}:
		case <-abandon:
			if err == nil {
				discard(s)
			}
		}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	var none S
	select {
	case r := <-done:
		return r.s, r.err
	case <-t.C:
		close(abandon)
		return none, fmt.Errorf("%w: %s: no answer within %v", ErrUnreachable, what, d)
	case <-ctx.Done():
		close(abandon)
		return none, fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

func open(ctx context.Context, cfg Config, ep endpoint) (*Log, error) {
	l := &Log{
		cfg:       cfg,
		ep:        ep,
		log:       cfg.Logger.With("component", "streamlog", "stream", cfg.Stream),
		producer:  producerName(cfg.Name),
		pend:      newPending(cfg.Buffer),
		lastOff:   -1,
		startedAt: time.Now(),
	}
	l.subs.Store(&[]subscriber{})
	if l.outage = cfg.outage; l.outage == nil {
		l.outage = outage.New(cfg.Logger.With("component", "streamlog"), outage.Where("stream", redact(cfg.URL)))
	}

	if err := l.declare(); err != nil {
		return nil, err
	}
	ps, err := l.connectProducer()
	if err != nil {
		return nil, err
	}
	var cs *consumerSession
	if !cfg.writeOnly {
		if cs, err = l.connectConsumer(stream.OffsetSpecification{}.Next()); err != nil {
			ps.close()
			l.wg.Wait() // the confirmation drainer
			return nil, err
		}
	}
	if cfg.RunStream != "" {
		rc := cfg
		rc.Stream, rc.RunStream, rc.writeOnly, rc.Buffer = cfg.RunStream, "", true, runBuffer
		rc.outage = l.outage
		if l.runs, err = Open(ctx, rc); err != nil {
			ps.close()
			if cs != nil {
				cs.close()
			}
			l.wg.Wait()
			return nil, fmt.Errorf("run stream: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.runProducer(runCtx, ps)
	}()
	if cs != nil {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.runConsumer(runCtx, cs)
		}()
	} else {
		l.consumerUp.Store(true)
	}
	l.log.Info("event log open", "url", redact(cfg.URL), "producer", l.producer)
	return l, nil
}

// prepare fills in cfg's defaults, checks it, puts the port in its URL
// and checks that the stream listener answers.
func prepare(ctx context.Context, cfg *Config) (endpoint, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return endpoint{}, fmt.Errorf("streamlog config: %w", err)
	}
	eps, _ := parseURLs(cfg.URL)
	cfg.URL = withPorts(cfg.URL)
	return eps[0], PingTLS(ctx, cfg.URL, cfg.TLS)
}

// redial opens a new session with connect after a lost one, waiting
// between attempts as package backoff paces them, until it succeeds
// (true) or ctx ends (false). Each attempt pings first: the client's
// environment retries its first connection forever, with no way out, if
// the broker is down.
func redial[S any](ctx context.Context, l *Log, what string, connect func() (S, error)) (S, bool) {
	for wait := backoff.Min; ; wait = backoff.Next(wait) {
		backoff.Sleep(ctx, wait)
		if ctx.Err() != nil {
			l.outage.Gone(l.session(what))
			var none S
			return none, false
		}
		err := PingTLS(ctx, l.cfg.URL, l.cfg.TLS)
		if err == nil {
			var s S
			if s, err = bounded(ctx, l.cfg.OpenTimeout, &l.wg, "reconnect event "+what, connect, func(s S) {
				if c, ok := any(s).(interface{ close() }); ok {
					c.close()
				}
			}); err == nil {
				l.reconnects.Add(1)
				return s, true
			}
		}
		l.outage.Failed(l.session(what), err, backoff.Next(wait))
	}
}

// producerName is unique to this Log: the broker deduplicates by
// (producer name, publishing id), so two processes must never share one.
func producerName(prefix string) string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%s/%d/%s", prefix, host, os.Getpid(), hex.EncodeToString(b[:]))
}

// tlsFor is the TLS configuration of a connection to host: c's copy, or
// the default one verifying host (the client's own default names no
// server and so fails every handshake).
func tlsFor(c *tls.Config, host string) *tls.Config {
	if c == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	return broker.ForHost(c, host)
}

// newEnv opens an environment whose consumers reach a node holding the
// stream (see route.go); for a stream that does not exist yet, one for
// the locator only.
func (l *Log) newEnv() (*stream.Environment, error) {
	return newEnv(l.cfg, l.ep)
}

func newEnv(cfg Config, _ endpoint) (*stream.Environment, error) {
	env, err := dialEnv(cfg, nil)
	if err != nil {
		return nil, err
	}
	return routeEnv(env, cfg, roleConsumer)
}

// dialEnv opens an environment on the first of cfg's URLs that answers,
// sending every connection to res when it is not nil.
func dialEnv(cfg Config, res *stream.AddressResolver) (*stream.Environment, error) {
	opts := stream.NewEnvironmentOptions().
		SetUris(broker.SplitURLs(cfg.URL)).
		SetReadBuffer(cfg.SocketBuffer).
		SetWriteBuffer(cfg.SocketBuffer).
		SetRPCTimeout(rpcTimeout)
	if eps, _ := parseURLs(cfg.URL); len(eps) > 0 && eps[0].tls {
		opts = opts.IsTLS(true).SetTLSConfig(tlsFor(cfg.TLS, eps[0].host))
	}
	if res != nil {
		opts.SetAddressResolver(*res)
	}
	env, err := stream.NewEnvironment(opts)
	if err != nil {
		if env != nil {
			_ = env.Close()
		}
		var netErr net.Error
		if errors.As(err, &netErr) {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, redact(cfg.URL), err)
		}
		// Refused credentials or vhost: the broker answered.
		return nil, fmt.Errorf("connect %s: %w", redact(cfg.URL), err)
	}
	return env, nil
}

// declare creates the stream with the configured retention. A stream that
// exists with other arguments is kept as it is: retention is the
// operator's to change, not a restarted process's.
func (l *Log) declare() error {
	env, err := dialEnv(l.cfg, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	kept, err := declareOn(env, l.cfg)
	if kept {
		l.log.Warn("stream exists with other arguments; keeping it", "max_age", l.cfg.MaxAge, "max_bytes", l.cfg.MaxBytes)
	}
	return err
}

// declareOn declares cfg's stream and reports whether it existed with
// other arguments.
func declareOn(env *stream.Environment, cfg Config) (kept bool, err error) {
	opts := stream.NewStreamOptions()
	if cfg.MaxAge > 0 {
		opts.SetMaxAge(cfg.MaxAge)
	}
	if cfg.MaxBytes > 0 {
		opts.SetMaxLengthBytes(stream.ByteCapacity{}.B(cfg.MaxBytes))
	}
	err = env.DeclareStream(cfg.Stream, opts)
	if errors.Is(err, stream.PreconditionFailed) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("declare stream %q: %w", cfg.Stream, err)
	}
	return false, nil
}

// scratch holds encoding buffers for Append.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Append encodes ev and queues it for the producer. It never blocks on
// the broker: when the buffer is full (the broker is slow or away), the
// event is dropped and counted.
func (l *Log) Append(ev engine.Event) {
	if l.runs != nil && (ev.Type == engine.EventRunStarted || ev.Type == engine.EventRunFinished) {
		l.runs.Append(ev)
	}
	if l.closing.Load() {
		l.dropped.Add(1)
		return
	}
	buf := scratch.Get().(*[]byte)
	*buf = ev.AppendJSON((*buf)[:0])
	if size := len(*buf); size > maxEventBytes {
		scratch.Put(buf)
		l.dropped.Add(1)
		l.log.Warn("event not appended: too large", "order_id", ev.OrderID, "event", ev.Type, "bytes", size)
		return
	}
	body := append([]byte(nil), *buf...)
	scratch.Put(buf)
	if !l.pend.push(body) {
		l.dropped.Add(1)
	} else {
		l.appended.Add(1)
	}
	// This process's own events reach its subscribers at once, not after
	// a round trip through the broker (the consumer skips them): decoding
	// every event of a busy pipeline back from the stream cost it a fifth
	// of its throughput, and local traces keep working while the stream
	// is away.
	if subs := l.subs.Load(); subs != nil {
		for _, s := range *subs {
			s.fn(ev)
		}
	}
	l.delivered.Add(1)
}

// Durable returns a channel that is closed once the broker has stored
// every event appended so far, or nil if there is none to wait for. A
// worker acks a delivery only after its events are stored, so a process
// killed at any moment never leaves the audit without the record of work
// it acked (engine.DurableLog). While someone waits the producer lingers
// durableLinger instead of linger. When the log closes, waiters are
// released whether or not their events were stored.
func (l *Log) Durable() <-chan struct{} { return l.pend.durable() }

// Subscribe calls fn for every event from now on: this process's own as
// they are appended (from the appending goroutine), and every other
// process's as they are read from the stream (from the consumer's
// goroutine, in stream order). fn must be safe for concurrent use and
// quick (it holds up delivery to everyone), and must not call Close.
func (l *Log) Subscribe(fn func(engine.Event)) (cancel func()) {
	l.subsMu.Lock()
	defer l.subsMu.Unlock()
	id := l.nextSub
	l.nextSub++
	subs := append(append([]subscriber(nil), *l.subs.Load()...), subscriber{id: id, fn: fn})
	l.subs.Store(&subs)
	return func() {
		l.subsMu.Lock()
		defer l.subsMu.Unlock()
		old := *l.subs.Load()
		subs := make([]subscriber, 0, len(old))
		for _, s := range old {
			if s.id != id {
				subs = append(subs, s)
			}
		}
		l.subs.Store(&subs)
	}
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	return Stats{
		Appended:    l.appended.Load(),
		Published:   l.published.Load(),
		Confirmed:   l.confirmed.Load(),
		Pending:     int64(l.pend.len()),
		Dropped:     l.dropped.Load(),
		Delivered:   l.delivered.Load(),
		Undecodable: l.undecodable.Load(),
		Reconnects:  l.reconnects.Load(),
		Connected:   l.producerUp.Load() && l.consumerUp.Load(),
	}
}

// Close waits (at most 5 s) for the broker to confirm what was appended,
// then closes the producer, the consumer and their connections. Events
// still unconfirmed are counted as dropped. It is idempotent.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		deadline := time.Now().Add(flushTimeout)
		for l.pend.len() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		l.cancel()
		done := make(chan struct{})
		go func() {
			l.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(stopTimeout):
			l.closeErr = errors.New("close event log: stream client did not stop in time")
		}
		if n := l.pend.clear(); n > 0 {
			l.dropped.Add(int64(n))
			l.log.Warn("event log closed with unconfirmed events", "dropped", n)
		}
		if l.runs != nil {
			l.closeErr = errors.Join(l.closeErr, l.runs.Close())
		}
	})
	return l.closeErr
}

// session names one of the Log's sessions for the outage tracker:
// "oms-sim.events producer".
func (l *Log) session(what string) string { return l.cfg.Stream + " " + what }
