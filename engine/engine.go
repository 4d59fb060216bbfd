// Package engine is the order system: broker topology, the HTTP order API,
// the payment, inventory and email stages as goroutine pools, the domain
// state (catalog, stock, charges), telemetry and the order trace. It
// imports nothing else of oms-sim's; the dashboard, the load generator and
// main reach it through Snapshot (read) and Control (steer).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/backoff"
	"oms-sim/internal/outage"
)

// ErrBrokerUnreachable is returned by Start when the first connection
// cannot be made.
var ErrBrokerUnreachable = errors.New("broker unreachable")

// Engine runs the order pipeline. Create it with New, start it with Start,
// stop it with Close.
type Engine struct {
	cfg Config
	// hists are the latencies as Prometheus histograms (/metrics).
	hists *promHists
	names Names
	// ordersX is names.Of(ExchangeOrders), built once: every message
	// goes there.
	ordersX string
	log     *slog.Logger
	inv     *inventory
	sink    Sink
	store   *store
	ledger  *ledger
	events  EventLog
	durable DurableLog   // events, when it can say what is stored; else nil
	history OrderHistory // nil: GET /api/orders/{id} answers from the store only
	pub     *publisher
	stages  map[string]*stage
	mon     *monitor

	started    time.Time
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	sessions   atomic.Int32 // connected sessions
	expected   atomic.Int32 // sessions when fully connected: one per connection wanted
	reconnects atomic.Int64

	mu        sync.Mutex
	errors    ring[ErrorEntry]
	changes   ring[Change]
	lastError string

	live liveConns   // connected sessions, for the broker's flow control
	mgmt *mgmtPoller // nil: no management API to poll
	api  apiCounters
	adm  admission
	idem *idemKeys // nil: Idempotency-Key is ignored
	// outage logs the broker going away once and coming back once
	// (outage.go), not a line per session per attempt.
	outage *outage.Tracker
}

// New validates cfg and builds an engine. It does not connect.
func New(cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine config: %w", err)
	}
	sink, err := newSink(cfg.EmailSink, cfg.Logger)
	if err != nil {
		return nil, err
	}
	cfg.Catalog.Seed = cfg.Seed
	e := &Engine{
		cfg:     cfg,
		names:   Names{Namespace: cfg.Namespace},
		ordersX: Names{Namespace: cfg.Namespace}.Of(ExchangeOrders),
		log:     cfg.Logger,
		inv:     newInventory(cfg.Catalog),
		sink:    sink,
		store:   newStore(cfg.RecentOrders),
		ledger:  newLedger(),
		events:  NewMemoryLog(),
		stages:  map[string]*stage{},
		errors:  ring[ErrorEntry]{max: changeLogSize},
		changes: ring[Change]{max: changeLogSize},
	}
	e.store.timelines = cfg.Events != EventsOff
	e.pub = newPublisher(e)
	for _, name := range StageNames {
		e.stages[name] = newStage(e, name, cfg.Stages[name])
	}
	e.mon = newMonitor(e)
	e.outage = e.newOutage()
	e.hists = newPromHists()
	e.hists.wire(e)
	e.adm.max.Store(int64(cfg.MaxBacklog))
	if cfg.IdempotencyKeys > 0 {
		e.idem = newIdemKeys(cfg.IdempotencyKeys, cfg.IdempotencyTTL)
	}
	return e, nil
}

// SetEventLog replaces the in-memory event log (before Start), e.g. with a
// RabbitMQ stream shared by several processes.
func (e *Engine) SetEventLog(l EventLog) {
	e.events = l
	e.durable, _ = l.(DurableLog)
}

// eventsStored returns a channel closed once the events appended so far
// are stored, or nil when the log keeps nothing outside the process.
func (e *Engine) eventsStored() <-chan struct{} {
	if e.durable == nil {
		return nil
	}
	return e.durable.Durable()
}

// Config returns the engine's configuration (with defaults filled in).
func (e *Engine) Config() Config { return e.cfg }

// Start connects once to check the broker and declare the topology, then
// runs the API publisher, the stages this process has roles for and the
// monitor in the background. An unreachable broker gives an error wrapping
// ErrBrokerUnreachable; after Start succeeds, connection losses are
// survived by reconnecting.
func (e *Engine) Start(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := e.cfg.Dialer.Dial(dctx, e.cfg.Process+"/setup")
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBrokerUnreachable, e.cfg.Dialer.Describe(), err)
	}
	err = conn.Declare(ctx, e.topology())
	conn.Close()
	if err != nil {
		return fmt.Errorf("declare topology: %w", err)
	}
	e.ledger.since = time.Now()
	e.events.Subscribe(e.ledger.apply)
	e.events.Subscribe(e.store.apply)
	e.events.Subscribe(e.applyRemote)
	e.started = time.Now()
	runCtx, runCancel := context.WithCancel(context.Background())
	e.cancel = runCancel
	e.startSessions(runCtx)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.mon.sample(runCtx)
	}()
	if e.cfg.ManagementURL != "" && e.cfg.BrokerKind != "embedded" {
		var queues []string
		for _, st := range StageNames {
			queues = append(queues, e.names.Queue(st))
		}
		queues = append(queues, e.names.Of(QueueDead))
		e.mgmt = newMgmtPoller(e.cfg.ManagementURL, e.cfg.ManagementTLS, queues, e.cfg.Process+"/")
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.mgmt.run(runCtx)
		}()
	}
	// Wait (briefly) for the sessions to connect, so the API accepts
	// orders as soon as Start returns.
	deadline := time.Now().Add(10 * time.Second)
	for !(e.Connected() && (e.Ready() || !e.cfg.hasRole(RoleAPI))) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	e.log.Info("engine started", "broker", e.cfg.Dialer.Describe(), "queue_type", e.cfg.QueueType, "roles", e.cfg.Roles)
	return nil
}

func (e *Engine) topology() broker.Topology {
	return e.names.Topology(e.cfg.QueueType, e.cfg.RetryDelays)
}

// Names returns the engine's exchange and queue names.
func (e *Engine) Names() Names { return e.names }

// Close stops the engine gracefully: the API stops publishing, every
// worker stops consuming, finishes the deliveries it holds and waits for
// their confirms and acks. It is idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.cancel != nil {
			e.cancel()
		}
		e.wg.Wait()
		e.events.Close()
	})
	return nil
}

// startSessions starts the broker sessions of the API publisher, the
// stages this process runs and the monitor, on the connections the layout
// asks for (Config.Connections).
func (e *Engine) startSessions(ctx context.Context) {
	var stages []*stage
	for _, name := range StageNames {
		if e.cfg.hasRole(name) {
			stages = append(stages, e.stages[name])
		}
	}
	if e.cfg.Connections == ConnShared {
		var parts []session
		if e.cfg.hasRole(RoleAPI) {
			parts = append(parts, e.pub.session)
		}
		for _, s := range stages {
			parts = append(parts, s.session)
		}
		e.goSupervise(ctx, &e.wg, "shared", together(append(parts, e.mon.session)...))
		return
	}
	if e.cfg.hasRole(RoleAPI) {
		e.goSupervise(ctx, &e.wg, "api", e.pub.session)
	}
	for _, s := range stages {
		if e.cfg.Connections == ConnPerWorker {
			// Each worker supervises a connection of its own; begin
			// starts them now, so Start waits for their connections too.
			s.begin(nil)
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				<-ctx.Done()
				s.end()
			}()
			continue
		}
		e.goSupervise(ctx, &e.wg, s.name, s.session)
	}
	e.goSupervise(ctx, &e.wg, "monitor", e.mon.session)
}

// session is a part of the engine that runs on a broker connection until
// the connection is lost (it returns why) or ctx ends (it returns nil once
// it has finished its work in flight).
type session func(ctx context.Context, conn broker.Conn) error

// together runs sessions side by side on one connection (the shared
// layout). When one of them ends — its connection or one of its channels
// was lost — the others are stopped too and the first error is returned,
// so the supervisor reconnects them all.
func together(sessions ...session) session {
	return func(ctx context.Context, conn broker.Conn) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make(chan error, len(sessions))
		for _, run := range sessions {
			go func() { errs <- run(ctx, conn) }()
		}
		err := <-errs
		cancel()
		for range len(sessions) - 1 {
			if e := <-errs; err == nil {
				err = e
			}
		}
		return err
	}
}

// goSupervise runs supervise in the background, owned by wg and counted
// in e.expected while it runs (counted at once, not in the goroutine:
// Connected must see it immediately).
func (e *Engine) goSupervise(ctx context.Context, wg *sync.WaitGroup, name string, run session) {
	e.expected.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer e.expected.Add(-1)
		e.supervise(ctx, name, run)
	}()
}

// supervise runs run on a fresh connection named process/name, again and
// again with backoff whenever the connection is lost, until ctx ends. The
// caller counts it in e.expected.
func (e *Engine) supervise(ctx context.Context, name string, run session) {
	defer e.outage.Gone(name)
	wait := backoff.Min
	first := true
	for ctx.Err() == nil {
		conn, err := e.dialAndDeclare(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.setLastError(fmt.Sprintf("%s: reconnecting in %v: %v", name, wait, err))
			e.outage.Failed(name, err, wait)
			backoff.Sleep(ctx, wait)
			wait = backoff.Next(wait)
			continue
		}
		if !first {
			e.reconnects.Add(1)
		}
		e.outage.Up(name)
		first = false
		wait = backoff.Min
		e.sessions.Add(1)
		e.live.set(name, conn)
		err = run(ctx, conn)
		e.live.set(name, nil)
		e.sessions.Add(-1)
		conn.Close()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = broker.ErrClosed
		}
		e.reportError("", "", fmt.Sprintf("%s connection lost: %v", name, err))
		e.outage.Lost(name, err)
		backoff.Sleep(ctx, wait)
	}
}

func (e *Engine) dialAndDeclare(ctx context.Context, name string) (broker.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := e.cfg.Dialer.Dial(dctx, e.cfg.Process+"/"+name)
	if err != nil {
		return nil, err
	}
	if err := conn.Declare(dctx, e.topology()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("declare topology: %w", err)
	}
	return conn, nil
}

// Connected reports whether every broker session is up.
func (e *Engine) Connected() bool {
	want := e.expected.Load()
	return want > 0 && e.sessions.Load() == want
}

// Ready reports whether the API can accept orders now.
func (e *Engine) Ready() bool { return e.pub.ready() }

// emit stamps and logs an event.
func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Process = e.cfg.Process
	e.events.Append(ev)
}

// Emit appends an event of the caller's to the log (the load generator
// records its runs and arrivals there). Process and Time are filled in.
func (e *Engine) Emit(ev Event) { e.emit(ev) }

// Subscribe calls fn for every lifecycle event from now on (the load
// generator's audit uses it). fn must be quick.
func (e *Engine) Subscribe(fn func(Event)) (cancel func()) { return e.events.Subscribe(fn) }

func (e *Engine) reportError(stage, orderID, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errors.push(ErrorEntry{Time: time.Now(), Stage: stage, OrderID: orderID, Message: msg})
}

func (e *Engine) setLastError(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastError = msg
}

func (e *Engine) note(source, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.changes.push(Change{Time: time.Now(), Source: source, Text: text})
	e.log.Info("change", "source", source, "change", text)
}

// Note records a change made outside the engine in the change log.
func (e *Engine) Note(source, text string) { e.note(source, text) }

// PlaceOrder accepts an order: it publishes order.created and returns once
// the broker has confirmed it. ErrUnavailable means it was not accepted;
// ErrIndeterminate (which wraps it) means the broker may have it anyway:
// the returned Order then carries the id it would run under.
func (e *Engine) PlaceOrder(ctx context.Context, req OrderRequest) (Order, error) {
	if !e.inv.known(req.ProductID) {
		return Order{}, &FieldError{Field: "product_id", Msg: fmt.Sprintf("unknown product %d (valid: 1..%d)", req.ProductID, len(e.inv.prices))}
	}
	o := newOrder(req)
	return o, e.publishOrder(ctx, o)
}

// newOrder gives req an id and a creation time.
func newOrder(req OrderRequest) Order {
	return Order{OrderID: newOrderID(), ProductID: req.ProductID, Quantity: req.Quantity, UserID: req.UserID, CreatedAt: time.Now().UTC()}
}

// orderStatus returns an order's status from the ledger, else the store.
func (e *Engine) orderStatus(id string) Status {
	if st, ok := e.ledger.status(id); ok {
		return st
	}
	if r, ok := e.store.get(id); ok {
		return r.Status
	}
	return StatusPending
}

// publishOrder publishes o's order.created and logs the outcome: accepted
// once confirmed, indeterminate when the broker may have it unconfirmed.
// Publishing the same order again is safe: the payment stage recognises
// its message id.
func (e *Engine) publishOrder(ctx context.Context, o Order) error {
	msg := e.message(o, KeyOrderCreated)
	if err := e.pub.publish(ctx, msg); err != nil {
		if errors.Is(err, ErrIndeterminate) {
			e.emit(Event{OrderID: o.OrderID, Type: EventIndeterminate, Stage: RoleAPI, Worker: "api", Detail: err.Error()})
		}
		return err
	}
	ord := o
	e.emit(Event{OrderID: o.OrderID, Type: EventAccepted, Stage: RoleAPI, Worker: "api", Time: o.CreatedAt, Order: &ord})
	return nil
}

// Order returns one order from the recent-orders store.
func (e *Engine) Order(id string) (OrderRecord, bool) { return e.store.get(id) }

// Orders lists recent orders, newest first, and the number matching.
func (e *Engine) Orders(q OrderQuery) ([]OrderRecord, int) { return e.store.list(q) }

// Inventory lists the catalog with current stock.
func (e *Engine) Inventory() []ProductStock { return e.inv.list() }

// KnownProduct reports whether id is in the catalog.
func (e *Engine) KnownProduct(id int) bool { return e.inv.known(id) }

// Counts returns the order totals since start.
func (e *Engine) Counts() OrderCounts { return e.ledger.counts() }

// UpdateStage implements Control.
func (e *Engine) UpdateStage(source, name string, p StagePatch) (StageConfig, error) {
	s, err := e.runningStage(name)
	if err != nil {
		return StageConfig{}, err
	}
	old, now, err := s.update(p)
	if err != nil {
		return old, fmt.Errorf("stage %s: %w", name, err)
	}
	for _, c := range describeChanges(name, old, now) {
		e.note(source, c)
	}
	return now, nil
}

// runningStage returns the stage named name if this process runs it: the
// knobs of a stage that runs elsewhere are the other processes'.
func (e *Engine) runningStage(name string) (*stage, error) {
	s, ok := e.stages[name]
	if !ok {
		return nil, fmt.Errorf("stage %q: %w", name, ErrUnknownStage)
	}
	if !e.cfg.hasRole(name) {
		return nil, fmt.Errorf("stage %s: %w", name, ErrStageElsewhere)
	}
	return s, nil
}

func describeChanges(name string, a, b StageConfig) []string {
	var out []string
	if a.Workers != b.Workers {
		out = append(out, fmt.Sprintf("%s workers %d → %d", name, a.Workers, b.Workers))
	}
	if a.Prefetch != b.Prefetch {
		out = append(out, fmt.Sprintf("%s prefetch %d → %d", name, a.Prefetch, b.Prefetch))
	}
	if a.ServiceTime != b.ServiceTime {
		out = append(out, fmt.Sprintf("%s service time %v → %v", name, a.ServiceTime, b.ServiceTime))
	}
	if a.ErrorRate != b.ErrorRate {
		out = append(out, fmt.Sprintf("%s error rate %g → %g", name, a.ErrorRate, b.ErrorRate))
	}
	if a.DeclineRate != b.DeclineRate {
		out = append(out, fmt.Sprintf("%s decline rate %g → %g", name, a.DeclineRate, b.DeclineRate))
	}
	return out
}

// StageConfig returns a stage's current knobs, cheaply (no snapshot).
func (e *Engine) StageConfig(name string) (StageConfig, bool) {
	s, ok := e.stages[name]
	if !ok {
		return StageConfig{}, false
	}
	return s.config(), true
}

// PauseStage implements Control.
func (e *Engine) PauseStage(source, name string) error {
	s, err := e.runningStage(name)
	if err != nil {
		return err
	}
	s.setPaused(true)
	e.note(source, name+" stopped consuming")
	return nil
}

// ResumeStage implements Control.
func (e *Engine) ResumeStage(source, name string) error {
	s, err := e.runningStage(name)
	if err != nil {
		return err
	}
	s.setPaused(false)
	e.note(source, name+" resumed")
	return nil
}

// Restock implements Control.
func (e *Engine) Restock(source string, product, quantity int) error {
	if quantity < 1 || quantity > MaxRestock {
		return fmt.Errorf("restock quantity must be 1..%d, got %d", MaxRestock, quantity)
	}
	if err := e.inv.restock(product, quantity); err != nil {
		return err
	}
	what := fmt.Sprintf("product %d", product)
	if product == 0 {
		what = "every product"
	}
	e.note(source, fmt.Sprintf("restocked %s with %d", what, quantity))
	return nil
}

// ResetStats zeroes latency histograms and order counts (the load
// generator calls it when a run starts, so a report covers only the run).
func (e *Engine) ResetStats() {
	for _, s := range e.stages {
		s.stats.queueWait.reset()
		s.stats.service.reset()
	}
	e.store.reset()
	e.ledger.reset()
	e.mon.resetPeaks()
}
