package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"oms-sim/engine/broker"
)

// Defaults.
const (
	DefaultWorkers      = 2
	DefaultPrefetch     = 100
	DefaultMaxAttempts  = 5
	DefaultRecentOrders = 10000
	DefaultProducts     = 50
	DefaultStock        = 1_000_000
	DefaultPublishers   = 4
	DefaultHTTPAddr     = "localhost:5000"
)

// Connection layouts: which broker connections the engine's parts share.
const (
	// ConnPerStage gives the API publisher, each stage and the monitor a
	// connection each; a stage's workers open their channels on it.
	ConnPerStage = "per-stage"
	// ConnPerWorker gives every stage worker a connection of its own (the
	// API publisher and the monitor keep theirs).
	ConnPerWorker = "per-worker"
	// ConnShared runs everything on one connection.
	ConnShared = "shared"
)

// ConnLayouts lists the valid connection layouts, the default first.
var ConnLayouts = []string{ConnPerStage, ConnPerWorker, ConnShared}

// MaxMessageBytes bounds a message body the stages accept, and so the
// configurable body size (Config.BodyBytes).
const MaxMessageBytes = 16 << 20

// Catalog describes the products: ids 1..Products, each with the same
// initial stock and a price drawn (deterministically from Seed) between
// PriceMin and PriceMax cents.
type Catalog struct {
	Products int
	Stock    int
	PriceMin int64
	PriceMax int64
	Seed     uint64
}

// Config configures an Engine. New fills in defaults and validates it.
type Config struct {
	// Dialer opens broker connections (RabbitMQ or embedded).
	Dialer broker.Dialer
	// BrokerKind is "rabbitmq" or "embedded", for display.
	BrokerKind string
	// BrokerNote explains how the broker was chosen, e.g. why the
	// embedded one runs; shown in the dashboard header and reports.
	BrokerNote string
	// QueueType is broker.Classic or broker.Quorum.
	QueueType string
	// Roles are the parts this process runs: "api", "payment",
	// "inventory", "email". Empty means all; RoleNone alone runs none
	// (a process that only watches a pipeline run elsewhere).
	Roles []string
	// Events selects the event log: EventsMemory (default) keeps every
	// order's timeline in process; EventsOff keeps statuses and latency
	// but no timelines. A shared log (a RabbitMQ stream) is installed
	// with SetEventLog.
	Events string
	// Namespace prefixes every exchange and queue name ("ns.orders");
	// empty means the names of DESIGN.md §3.
	Namespace string
	// Process names this process in events and connection names.
	Process string
	// Routes is the pipeline: which stage handles which routing key, and
	// how (nil: StandardRoutes).
	Routes Routes
	// Stages holds the initial knobs per stage name.
	Stages map[string]StageConfig
	// MaxAttempts is how many times a message is tried before it is
	// dead-lettered.
	MaxAttempts int
	// RetryDelays are the backoff levels.
	RetryDelays []time.Duration
	// Catalog is the product catalog and initial stock.
	Catalog Catalog
	// RecentOrders bounds the order store.
	RecentOrders int
	// Publishers is the number of API publishing channels.
	Publishers int
	// EmailSink is "log", "dir:PATH" or "smtp://host:port".
	EmailSink string
	// Seed makes random choices (declines, errors, service times)
	// reproducible; 0 picks one from the clock.
	Seed uint64
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// MaxBacklog is the admission bound: while the work queues hold more
	// ready messages than this, POST /api/orders answers 503 without
	// publishing. 0 turns it off (the flag's default is DefaultMaxBacklog).
	MaxBacklog int
	// IdempotencyKeys bounds the Idempotency-Keys POST /api/orders
	// remembers; 0 turns keys off (the header is ignored). The flag's
	// default is DefaultIdempotencyKeys.
	IdempotencyKeys int
	// IdempotencyTTL is how long a key is remembered at most (default
	// DefaultIdempotencyTTL).
	IdempotencyTTL time.Duration
	// ManagementURL is RabbitMQ's management API ("http://user:pw@host:15672/api/"),
	// polled for the nodes' run queues and alarms; "" does not poll.
	ManagementURL string
	// ManagementTLS is the TLS configuration of an https:// management
	// API (the --tls-* flags); nil uses the system's roots.
	ManagementTLS *tls.Config
	// BodyBytes, when positive, is the size of every message the engine
	// publishes (order.created and each hop's outgoing message): the
	// order JSON is padded to exactly this many bytes with a "pad" field
	// that every decoder ignores. A body size smaller than an order's
	// natural JSON (about 150 bytes) leaves that order unpadded: bodies
	// are never cut. 0 publishes the natural JSON. Retries and dead
	// letters keep the body they had.
	BodyBytes int
	// Transient publishes with delivery mode 1 (not persisted to disk)
	// instead of persistent delivery mode 2, the default of DESIGN.md §3.
	// Queues stay durable either way.
	Transient bool
	// Connections is the connection layout: ConnPerStage (default),
	// ConnPerWorker or ConnShared.
	Connections string
	// AdminToken, when set, is the bearer token the changing endpoints
	// (PATCH /api/stages/{name}, POST /api/inventory/restock) require.
	// Placing orders and reading stay open.
	AdminToken string
	// State is the domain state (stock, charges, the inbox of handled
	// messages, Idempotency-Keys); nil keeps it in this process's memory.
	// A shared state (engine/pgstate) lets several processes of a
	// pipeline, and restarts, share it. The caller closes it after the
	// engine.
	State State
	// AdminInsecure records that the API may be reachable beyond
	// loopback without a token (--insecure-admin); snapshots say so.
	AdminInsecure bool
}

func (c *Config) setDefaults() {
	if c.QueueType == "" {
		c.QueueType = broker.Classic
	}
	if c.Routes == nil {
		c.Routes = StandardRoutes()
	}
	if len(c.Roles) == 0 {
		c.Roles = append([]string{RoleAPI}, c.Routes.Stages()...)
	}
	if c.Process == "" {
		h, _ := os.Hostname()
		c.Process = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if c.Stages == nil {
		c.Stages = map[string]StageConfig{}
	}
	for _, s := range c.Routes.Stages() {
		if _, ok := c.Stages[s]; !ok {
			c.Stages[s] = DefaultStageConfig()
		}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryDelays == nil {
		c.RetryDelays = DefaultRetryDelays
	}
	if c.Catalog.Products == 0 {
		c.Catalog.Products = DefaultProducts
	}
	if c.Catalog.Stock == 0 {
		c.Catalog.Stock = DefaultStock
	}
	if c.Catalog.PriceMin == 0 && c.Catalog.PriceMax == 0 {
		c.Catalog.PriceMin, c.Catalog.PriceMax = 500, 9900
	}
	if c.RecentOrders == 0 {
		c.RecentOrders = DefaultRecentOrders
	}
	if c.IdempotencyTTL == 0 {
		c.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if c.Publishers == 0 {
		c.Publishers = DefaultPublishers
	}
	if c.EmailSink == "" {
		c.EmailSink = "log"
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BrokerKind == "" {
		c.BrokerKind = "rabbitmq"
	}
	if c.Connections == "" {
		c.Connections = ConnPerStage
	}
}

// Roles beyond the stage names.
const (
	RoleAPI  = "api"  // the HTTP order API
	RoleNone = "none" // nothing: watch only
)

// Event log modes.
const (
	EventsStream = "stream"
	EventsMemory = "memory"
	EventsOff    = "off"
)

// Validate reports every problem with the configuration.
func (c *Config) Validate() error {
	var errs []error
	routes := c.Routes
	if routes == nil {
		routes = StandardRoutes() // as New sets it
	}
	if c.Dialer == nil {
		errs = append(errs, errors.New("no broker dialer"))
	}
	if c.QueueType != broker.Classic && c.QueueType != broker.Quorum {
		errs = append(errs, fmt.Errorf("queue type %q: valid are classic, quorum", c.QueueType))
	}
	for _, r := range c.Roles {
		if r != RoleAPI && r != RoleNone && !routes.Has(r) {
			errs = append(errs, fmt.Errorf("role %q: valid are api, %s, none", r, strings.Join(routes.Stages(), ", ")))
		}
		if r == RoleNone && len(c.Roles) > 1 {
			errs = append(errs, errors.New("role none cannot be combined with other roles"))
		}
	}
	switch c.Events {
	case "", EventsMemory, EventsOff, EventsStream:
	default:
		errs = append(errs, fmt.Errorf("events %q: valid are stream, memory, off", c.Events))
	}
	for name, sc := range c.Stages {
		if !routes.Has(name) {
			errs = append(errs, fmt.Errorf("stage %q: valid are %s", name, strings.Join(routes.Stages(), ", ")))
			continue
		}
		if err := sc.ValidateFor(name); err != nil {
			errs = append(errs, fmt.Errorf("stage %s: %w", name, err))
		}
	}
	if err := routes.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max attempts must be at least 1, got %d", c.MaxAttempts))
	}
	if len(c.RetryDelays) == 0 {
		errs = append(errs, errors.New("at least one retry delay is needed"))
	}
	if c.Catalog.Products < 1 || c.Catalog.Stock < 0 || c.Catalog.PriceMin < 1 || c.Catalog.PriceMax < c.Catalog.PriceMin {
		errs = append(errs, fmt.Errorf("catalog needs products >= 1, stock >= 0, 1 <= price min <= max; got %+v", c.Catalog))
	}
	if c.MaxBacklog < 0 {
		errs = append(errs, fmt.Errorf("max backlog must be 0 (off) or more, got %d", c.MaxBacklog))
	}
	if c.IdempotencyKeys < 0 || c.IdempotencyTTL < 0 {
		errs = append(errs, fmt.Errorf("idempotency keys (%d) and their time to live (%v) must not be negative", c.IdempotencyKeys, c.IdempotencyTTL))
	}
	if c.IdempotencyKeys > MaxIdempotencyKeys {
		errs = append(errs, fmt.Errorf("idempotency keys must be at most %d, got %d", MaxIdempotencyKeys, c.IdempotencyKeys))
	}
	if c.Catalog.Stock > MaxStock {
		errs = append(errs, fmt.Errorf("catalog stock must be at most %d per product, got %d", MaxStock, c.Catalog.Stock))
	}
	if c.BodyBytes < 0 || c.BodyBytes > MaxMessageBytes {
		errs = append(errs, fmt.Errorf("body bytes must be 0 (the natural order JSON) to %d, got %d", MaxMessageBytes, c.BodyBytes))
	}
	if !slices.Contains(ConnLayouts, c.Connections) {
		errs = append(errs, fmt.Errorf("connections %q: valid are %s", c.Connections, strings.Join(ConnLayouts, ", ")))
	}
	if c.RecentOrders < 1 {
		errs = append(errs, fmt.Errorf("recent orders must be at least 1, got %d", c.RecentOrders))
	}
	if _, err := ParseSink(c.EmailSink); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// HasRole reports whether this process plays role r (a stage, RoleAPI or
// RoleNone; Config.Roles).
func (c *Config) HasRole(r string) bool {
	for _, x := range c.Roles {
		if x == r {
			return true
		}
	}
	return false
}
