package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/telemetry"
)

// stage is one consumer pool of the route table (payment, inventory,
// email). It hands each delivery to its chain of middleware and handlers
// (middleware.go) and runs a set
// of workers that follows the configured worker count and survives
// reconnects. In the per-stage and shared layouts the workers open their
// channels on the stage's session connection; in the per-worker layout
// each worker supervises a connection of its own.
type stage struct {
	name    string
	queue   string
	started string // the event of a worker taking an order
	deps    stageDeps
	seen    *seenSet
	stats   stageStats
	chain   handleFunc // built once: middleware around the handlers
	// knobs is cfg, for the hot path to read without the lock.
	knobsNow atomic.Pointer[StageConfig]

	mu      sync.Mutex
	cfg     StageConfig
	paused  bool
	live    bool        // between begin and end: workers may run
	conn    broker.Conn // the session's connection; nil per-worker or while disconnected
	gen     int         // counts begin calls, so a late restart stays in its own session
	workers []*worker   // running, oldest first
	nextID  int
	running sync.WaitGroup // every worker goroutine, including stopping ones
}

// stageDeps is what a stage uses of the engine, passed in by New.
type stageDeps struct {
	process string // Config.Process, for consumer tags
	// inbox is the shared state's inbox; nil: each stage dedupes in
	// memory (seen).
	inbox       Inbox
	names       Names
	msgs        messages
	seed        uint64
	maxAttempts int
	retryDelays []time.Duration
	log         *slog.Logger
	// emit logs an event; report records a problem in the error log.
	emit   func(Event)
	report func(stage, orderID, msg string)
	// stored returns a channel closed once the events logged so far are
	// stored, or nil when there is nothing to wait for (eventsStored).
	stored func() <-chan struct{}
	// supervise runs a session on connections of its own, counted in
	// the engine's expected sessions (the per-worker layout).
	supervise func(ctx context.Context, wg *sync.WaitGroup, name string, run session)
	// drawn, set only by tests (before Start), sees each service time a
	// worker draws.
	drawn func(o Order, stage, key string, attempt int64, d time.Duration)
}

// stageStats are a stage's counters, updated by its workers.
type stageStats struct {
	queueWait, service *telemetry.Latency
	delivered          atomic.Int64
	handled, ok        atomic.Int64
	failed, retried    atomic.Int64
	dead, redelivered  atomic.Int64
	inboxHits          atomic.Int64 // redeliveries answered from the shared inbox
	declined, short    atomic.Int64
	refunds            atomic.Int64
	inflight           atomic.Int64
	ackErrors          atomic.Int64
	unrecorded         atomic.Int64 // acked before the event log stored their events
}

// seenPerStage bounds each stage's redelivery memory (about 250 bytes a
// message). Redeliveries follow a lost ack by seconds — the broker requeues
// unacked messages when a channel closes — so 50,000 covers more than ten
// seconds of a stage at full speed.
const seenPerStage = 50_000

// newStage builds the stage name of routes, its handlers from env (Stage,
// Key and Knobs are filled in per route).
func newStage(deps stageDeps, routes Routes, name string, cfg StageConfig, env Env) *stage {
	s := &stage{name: name, queue: deps.names.Queue(name), started: StartedEvent(name), deps: deps, cfg: cfg}
	if deps.inbox == nil {
		s.seen = newSeenSet(seenPerStage) // the shared inbox replaces it
	}
	s.knobsNow.Store(&cfg)
	s.stats.queueWait = telemetry.NewLatency()
	s.stats.service = telemetry.NewLatency()
	env.Stage, env.Knobs = name, s.knobs
	handlers := map[string]Handler{}
	for _, rt := range routes {
		if rt.Stage == name {
			env.Key = rt.Key
			handlers[rt.Key] = rt.New(env)
		}
	}
	s.chain = s.compose(handlers)
	return s
}

func (s *stage) config() StageConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// knobs returns the stage's knobs without taking the lock.
func (s *stage) knobs() StageConfig { return *s.knobsNow.Load() }

// session runs the stage's workers on conn until the connection is lost or
// ctx ends. On ctx end the workers drain: they stop consuming, finish what
// they hold, and wait for its confirms and acks.
func (s *stage) session(ctx context.Context, conn broker.Conn) error {
	s.begin(conn)
	var err error
	select {
	case <-conn.Closed():
		err = conn.Err()
		if err == nil {
			err = broker.ErrClosed
		}
	case <-ctx.Done():
	}
	s.end()
	return err
}

// begin starts the configured workers: on conn, or, when conn is nil (the
// per-worker layout), each on a connection it dials and supervises.
func (s *stage) begin(conn broker.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live, s.conn = true, conn
	s.gen++
	s.reconcileLocked()
}

// end stops every worker and waits until they have drained.
func (s *stage) end() {
	s.mu.Lock()
	s.live, s.conn = false, nil
	for _, w := range s.workers {
		w.stop()
	}
	s.workers = nil
	s.mu.Unlock()
	s.running.Wait()
}

// reconcileLocked starts or stops workers until the running set matches
// the configuration. Stopped workers drain in the background.
func (s *stage) reconcileLocked() {
	want := s.cfg.Workers
	if s.paused || !s.live {
		want = 0
	}
	for len(s.workers) < want {
		s.nextID++
		w := newWorker(s, s.nextID, s.cfg.Prefetch)
		s.workers = append(s.workers, w)
		if s.conn == nil {
			s.deps.supervise(w.ctx, &s.running, s.name+"/"+w.name, w.session)
			continue
		}
		s.running.Add(1)
		go func(conn broker.Conn) {
			defer s.running.Done()
			defer w.cancel() // its context is unused here; release it
			if err := w.run(conn); err != nil {
				s.deps.report(s.name, "", fmt.Sprintf("worker %s: %v", w.name, err))
			}
			s.workerExited(w)
		}(s.conn)
	}
	for len(s.workers) > want {
		// Stop the newest: the oldest have the warmest prefetch buffers.
		w := s.workers[len(s.workers)-1]
		s.workers = s.workers[:len(s.workers)-1]
		w.stop()
	}
}

// workerExited forgets a worker that ended by itself (its channel died)
// and, if the session is still on, replaces it after a short pause.
func (s *stage) workerExited(w *worker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.workers {
		if x == w {
			s.workers = append(s.workers[:i], s.workers[i+1:]...)
			if s.live {
				gen := s.gen
				time.AfterFunc(200*time.Millisecond, func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					if s.live && s.gen == gen {
						s.reconcileLocked()
					}
				})
			}
			return
		}
	}
}

// update applies a patch. A prefetch change restarts the workers one by
// one (a consumer's prefetch is fixed when it starts).
func (s *stage) update(p StagePatch) (old, now StageConfig, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old = s.cfg
	c, err := old.Apply(s.name, p)
	if err != nil {
		return old, old, err
	}
	s.cfg = c
	s.knobsNow.Store(&c)
	if c.Prefetch != old.Prefetch {
		// Replace every worker: new ones start with the new prefetch
		// while the old ones drain.
		for _, w := range s.workers {
			w.stop()
		}
		s.workers = nil
	}
	s.reconcileLocked()
	return old, c, nil
}

func (s *stage) setPaused(p bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = p
	s.reconcileLocked()
}

// workerCount returns how many workers run now.
func (s *stage) workerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.workers)
}

func (s *stage) snapshot() StageSnapshot {
	s.mu.Lock()
	cfg, paused, running := s.cfg, s.paused, len(s.workers)
	s.mu.Unlock()
	st := &s.stats
	snap := StageSnapshot{
		Name: s.name, Config: cfg, Paused: paused, Running: running,
		InFlight:    st.inflight.Load(),
		Handled:     st.handled.Load(),
		OK:          st.ok.Load(),
		Failed:      st.failed.Load(),
		Retried:     st.retried.Load(),
		Dead:        st.dead.Load(),
		Redelivered: st.redelivered.Load(),
		InboxHits:   st.inboxHits.Load(),
		AckErrors:   st.ackErrors.Load(),
		Unrecorded:  st.unrecorded.Load(),
		Declined:    st.declined.Load(),
		OutOfStock:  st.short.Load(),
		Refunds:     st.refunds.Load(),
		QueueWait:   st.queueWait.Total(),
		Service:     st.service.Total(),

		QueueWaitRecent: st.queueWait.Recent(),
		ServiceRecent:   st.service.Recent(),
	}
	return snap
}
