// Package engine is the order system: broker topology, placing orders,
// the stages of a route table (route.go; by default payment, inventory and
// email) as goroutine pools whose workers hand each delivery to a chain of
// middleware around the route's handler (middleware.go), the domain state
// (catalog, stock, charges), telemetry and the order trace. Of oms-sim's
// own packages it imports only its broker interface and the shared
// internal helpers (telemetry, backoff); the HTTP API (engine/httpapi), the
// dashboard, the load generator and main reach it through its exported
// methods: Snapshot (read), Control (steer), PlaceOrder.
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
	state   State
	// stock is the last read of the state's stock (statewatch.go).
	stock   atomic.Pointer[StateStatus]
	sink    Sink
	store   *store
	ledger  *ledger
	events  EventLog
	durable DurableLog   // events, when it can say what is stored; else nil
	history OrderHistory // nil: GET /api/orders/{id} answers from the store only
	pub     *publisher
	msgs    messages
	routes  Routes
	// stageNames are the route table's stages in pipeline order; stages
	// holds each.
	stageNames []string
	stages     map[string]*stage
	mon        *monitor

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
	state := cfg.State
	if state == nil {
		state = newMemoryState(cfg.Catalog)
	}
	e := &Engine{
		cfg:     cfg,
		names:   Names{Namespace: cfg.Namespace},
		ordersX: Names{Namespace: cfg.Namespace}.Of(ExchangeOrders),
		log:     cfg.Logger,
		state:   state,
		sink:    sink,
		store:   newStore(cfg.RecentOrders),
		ledger:  newLedger(),
		events:  NewMemoryLog(),
		stages:  map[string]*stage{},
		errors:  ring[ErrorEntry]{max: changeLogSize},
		changes: ring[Change]{max: changeLogSize},
	}
	e.store.timelines = cfg.Events != EventsOff
	e.routes, e.stageNames = cfg.Routes, cfg.Routes.Stages()
	e.msgs = messages{exchange: e.ordersX, bodyBytes: cfg.BodyBytes, transient: cfg.Transient, consumed: cfg.Routes.consumed()}
	e.pub = newPublisher(cfg.Publishers)
	deps := stageDeps{
		process: cfg.Process, inbox: state.Inbox(), names: e.names, msgs: e.msgs, seed: cfg.Seed, log: cfg.Logger,
		maxAttempts: cfg.MaxAttempts, retryDelays: cfg.RetryDelays,
		emit: e.emit, report: e.reportError, stored: e.eventsStored, supervise: e.goSupervise,
	}
	env := Env{Seed: cfg.Seed, Sink: sink, state: state}
	for _, name := range e.stageNames {
		e.stages[name] = newStage(deps, e.routes, name, cfg.Stages[name], env)
	}
	e.mon = newMonitor(monitorDeps{
		names: e.names, ledger: e.ledger, stages: e.orderedStages(), remote: e.remote,
		brokerKind: cfg.BrokerKind, brokerURL: cfg.Dialer.Describe,
	})
	e.outage = e.newOutage()
	e.hists = newPromHists()
	e.hists.wire(e)
	e.adm.max.Store(int64(cfg.MaxBacklog))
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
	if err := e.state.Prepare(ctx, e.cfg.Catalog); err != nil {
		return fmt.Errorf("state %s: %w", e.state.Describe(), err)
	}
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
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		e.mon.sample(runCtx)
	}()
	go func() {
		defer e.wg.Done()
		e.watchStock(runCtx)
	}()
	if e.cfg.ManagementURL != "" && e.cfg.BrokerKind != "embedded" {
		var queues []string
		for _, q := range e.routes.Queues() {
			queues = append(queues, e.names.Of(q))
		}
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
	for !(e.Connected() && (e.Ready() || !e.cfg.HasRole(RoleAPI))) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	e.log.Info("engine started", "broker", e.cfg.Dialer.Describe(), "queue_type", e.cfg.QueueType, "roles", e.cfg.Roles, "state", e.state.Describe())
	return nil
}

func (e *Engine) topology() broker.Topology {
	return e.routes.Topology(e.names, e.cfg.QueueType, e.cfg.RetryDelays)
}

// orderedStages returns the stages in pipeline order.
func (e *Engine) orderedStages() []*stage {
	out := make([]*stage, len(e.stageNames))
	for i, name := range e.stageNames {
		out[i] = e.stages[name]
	}
	return out
}

// remote reports whether a stage runs in other processes only (--role).
func (e *Engine) remote(stage string) bool { return !e.cfg.HasRole(stage) }

// Routes returns the engine's route table.
func (e *Engine) Routes() Routes { return e.routes }

// StageNames returns the engine's stages in pipeline order.
func (e *Engine) StageNames() []string { return append([]string(nil), e.stageNames...) }

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
	if !e.KnownProduct(req.ProductID) {
		return Order{}, &FieldError{Field: "product_id", Msg: fmt.Sprintf("unknown product %d (valid: 1..%d)", req.ProductID, e.state.Products())}
	}
	o := NewOrder(req)
	return o, e.PublishOrder(ctx, o)
}

// NewOrder gives req an id and a creation time (and its draw key).
func NewOrder(req OrderRequest) Order {
	return Order{OrderID: newOrderID(), ProductID: req.ProductID, Quantity: req.Quantity, UserID: req.UserID, CreatedAt: time.Now().UTC(), DrawKey: req.DrawKey}
}

// OrderStatus returns an order's status from the ledger, else the store.
func (e *Engine) OrderStatus(id string) Status {
	if st, ok := e.ledger.status(id); ok {
		return st
	}
	if r, ok := e.store.get(id); ok {
		return r.Status
	}
	return StatusPending
}

// PublishOrder publishes o's order.created and logs the outcome: accepted
// once confirmed, indeterminate when the broker may have it unconfirmed.
// Publishing the same order again is safe: the payment stage recognises
// its message id.
func (e *Engine) PublishOrder(ctx context.Context, o Order) error {
	msg := e.msgs.build(o, KeyOrderCreated)
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

// Inventory lists the catalog with current stock, read from the state
// (so, with a shared state, the same in every process); nil when a
// shared state cannot be read (StockContext says why).
func (e *Engine) Inventory() []ProductStock {
	ctx, cancel := context.WithTimeout(context.Background(), stockReadTimeout)
	defer cancel()
	list, err := e.StockContext(ctx)
	if err != nil {
		return nil
	}
	return list
}

// StockContext lists the catalog with current stock, or says why a
// shared state could not be read.
func (e *Engine) StockContext(ctx context.Context) ([]ProductStock, error) {
	list, err := e.state.Stock(ctx)
	if err != nil {
		return nil, fmt.Errorf("read stock from %s: %w", e.state.Describe(), err)
	}
	return list, nil
}

// KnownProduct reports whether id is in the catalog.
func (e *Engine) KnownProduct(id int) bool {
	_, ok := e.state.Price(id)
	return ok
}

// State returns the engine's domain state (Config.State, or the
// in-memory one). A shared state that keeps a ledger implements
// LedgerChecker.
func (e *Engine) State() State { return e.state }

// StateLedger reads the shared state's ledger for the audit: the charges
// and refunds since since, and every product's stock account. ok is
// false when the state keeps no ledger (memory).
func (e *Engine) StateLedger(ctx context.Context, since time.Time) (l StateLedger, ok bool, err error) {
	lc, ok := e.state.(LedgerChecker)
	if !ok {
		return StateLedger{}, false, nil
	}
	l, err = lc.Ledger(ctx, since)
	return l, true, err
}

// Counts returns the order totals since start.
func (e *Engine) Counts() OrderCounts { return e.ledger.counts() }
