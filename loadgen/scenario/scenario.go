package scenario

import (
	"fmt"
	"slices"
	"time"

	"oms-sim/engine"
)

// Stage names, as used under stages: and in actions: the engine's
// standard route table's.
const (
	StagePayment   = engine.StagePayment
	StageInventory = engine.StageInventory
	StageEmail     = engine.StageEmail
)

// Service-time distributions and the parameters each one takes.
const (
	DistConstant    = "constant"    // value
	DistUniform     = "uniform"     // min, max
	DistNormal      = "normal"      // mean, stddev
	DistLognormal   = "lognormal"   // median, p99
	DistExponential = "exponential" // mean
)

// Product distributions for orders.
const (
	ProductUniform = "uniform"
	ProductZipf    = "zipf"
)

// Arrival processes within a phase.
const (
	ArrivalsUniform = "uniform" // evenly spaced: the n-th order is due when the integral of the rate reaches n+½
	ArrivalsPoisson = "poisson" // exponential gaps with the same mean rate, seeded from Scenario.Seed
)

// Defaults applied by SetDefaults to fields left out (or zero).
const (
	DefaultProducts      = 50
	DefaultStock         = 10000
	DefaultPriceMinCents = 500
	DefaultPriceMaxCents = 9900
	DefaultQuantityMin   = 1
	DefaultQuantityMax   = 3
	DefaultUsers         = 1000
	DefaultZipfS         = 1.2
	DefaultRetryBackoff  = Duration(100 * time.Millisecond)
)

// StageNames returns the stages of the pipeline in the order orders pass
// through them (engine.StageNames, derived from the route table).
func StageNames() []string { return slices.Clone(engine.StageNames) }

// DistNames returns the service-time distributions.
func DistNames() []string {
	return []string{DistConstant, DistUniform, DistNormal, DistLognormal, DistExponential}
}

// Scenario is one load-test script: the system's configuration, the load
// shape over time, timed interventions, and pass/fail thresholds.
type Scenario struct {
	Name        string      `yaml:"name"`        // defaults to the file name without .yaml
	Description string      `yaml:"description"` // one or two sentences shown in listings
	Seed        uint64      `yaml:"seed"`        // drives every random choice; same seed, same run
	Stages      Stages      `yaml:"stages"`      // overrides of the engine's stage defaults
	Catalog     Catalog     `yaml:"catalog"`
	Broker      Broker      `yaml:"broker"` // benchmark knobs of the broker traffic
	Orders      Orders      `yaml:"orders"`
	Retry       Retry       `yaml:"retry"` // resending refused orders (http driver only)
	Phases      []Phase     `yaml:"phases,required" doc:"a list of phases, each with duration and rate"`
	Actions     []Action    `yaml:"actions"`
	Thresholds  []Threshold `yaml:"thresholds"`

	src *source // positions from the file, if it came from one
}

// Stages holds optional overrides for each stage; nil keeps the engine's
// default.
type Stages struct {
	Payment   *StageOverride `yaml:"payment"`
	Inventory *StageOverride `yaml:"inventory"`
	Email     *StageOverride `yaml:"email"`
}

// Get returns the override for a stage by name, or nil.
func (s *Stages) Get(stage string) *StageOverride {
	switch stage {
	case StagePayment:
		return s.Payment
	case StageInventory:
		return s.Inventory
	case StageEmail:
		return s.Email
	}
	return nil
}

// StageOverride sets some of a stage's knobs; a nil field keeps the current
// value.
type StageOverride struct {
	Workers     *int         `yaml:"workers"`      // consumer goroutines, 1–1000 (engine.MaxWorkers)
	Prefetch    *int         `yaml:"prefetch"`     // AMQP prefetch per worker, 0–65535 (0: unlimited)
	ServiceTime *ServiceTime `yaml:"service_time"` // simulated work per message
	ErrorRate   *float64     `yaml:"error_rate"`   // share of messages failing transiently (retried), 0–1
	DeclineRate *float64     `yaml:"decline_rate"` // payment only: share of payments declined, 0–1
}

// empty reports whether no knob is set.
func (o *StageOverride) empty() bool {
	return o.Workers == nil && o.Prefetch == nil && o.ServiceTime == nil && o.ErrorRate == nil && o.DeclineRate == nil
}

// ServiceTime is a distribution of simulated processing time. Dist selects
// which parameters apply: constant (value), uniform (min, max), normal
// (mean, stddev), lognormal (median, p99), exponential (mean).
type ServiceTime struct {
	Dist   string    `yaml:"dist,required" doc:"one of constant, uniform, normal, lognormal, exponential"`
	Value  *Duration `yaml:"value"`
	Min    *Duration `yaml:"min"`
	Max    *Duration `yaml:"max"`
	Mean   *Duration `yaml:"mean"`
	Stddev *Duration `yaml:"stddev"`
	Median *Duration `yaml:"median"`
	P99    *Duration `yaml:"p99"`
}

// Catalog describes the products on sale.
type Catalog struct {
	Products   int        `yaml:"products"`    // product ids 1..products
	Stock      int        `yaml:"stock"`       // initial stock of each product
	PriceCents PriceRange `yaml:"price_cents"` // each product's price is drawn from this range
}

// PriceRange is an inclusive range of prices in cents.
type PriceRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Connection layouts for Broker.Connections.
const (
	ConnPerStage  = "per-stage"  // a connection for the API, each stage and the monitor
	ConnPerWorker = "per-worker" // a connection for each stage worker
	ConnShared    = "shared"     // one connection for everything
)

// ConnLayouts returns the valid connection layouts, the default first.
func ConnLayouts() []string { return []string{ConnPerStage, ConnPerWorker, ConnShared} }

// MaxBodyBytes bounds Broker.BodyBytes: 16 MiB, what the engine accepts.
const MaxBodyBytes = 16 << 20

// Broker holds the knobs RabbitMQ benchmarks (PerfTest, omq) have: message
// size, delivery mode and connection layout. A field left out keeps the
// engine's default, or the command line's flag.
type Broker struct {
	// BodyBytes pads every message body to this many bytes, 0–16 MiB;
	// 0 publishes the order JSON as it is (about 150 bytes). A size
	// below an order's JSON leaves it unpadded.
	BodyBytes *int `yaml:"body_bytes"`
	// Persistent publishes with delivery mode 2 (true, the default) or
	// transient delivery mode 1 (false). Queues stay durable.
	Persistent *bool `yaml:"persistent"`
	// Connections is the connection layout: per-stage (default),
	// per-worker or shared.
	Connections string `yaml:"connections"`
}

// Orders describes what each generated order contains.
type Orders struct {
	Product  ProductDist `yaml:"product"`
	Quantity IntRange    `yaml:"quantity"`
	Users    int         `yaml:"users"` // user ids are drawn uniformly from 1..users
}

// ProductDist picks the product of each order.
type ProductDist struct {
	Dist string  `yaml:"dist"` // uniform or zipf
	S    float64 `yaml:"s"`    // zipf exponent, > 1; larger means a few products dominate
}

// IntRange is an inclusive range of whole numbers.
type IntRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Retry says whether and how the http driver resends an order the API
// did not accept (503, 409 idempotency_key_in_use, a transport error or a
// timeout): with the same Idempotency-Key, so the order runs at most once.
// The publish driver has no keys and never retries.
type Retry struct {
	// Max is how many times an order may be resent, 0–10; 0 (the
	// default) turns retrying off.
	Max int `yaml:"max"`
	// Backoff is the first wait before a resend when the answer carried
	// no Retry-After; it doubles with each resend. Default 100ms.
	Backoff Duration `yaml:"backoff"`
}

// Phase is a stretch of the run with one rate shape.
type Phase struct {
	Name        string   `yaml:"name"`        // defaults to phase-N
	Description string   `yaml:"description"` // what this phase shows; the dashboard displays it
	Duration    Duration `yaml:"duration,required" doc:"a duration like 30s"`
	Rate        RateSpec `yaml:"rate,required" doc:"a rate like 50/s, or {from, to}, {steps, every}, {sine: …} or {burst: …}"`
	Arrivals    string   `yaml:"arrivals"` // uniform (default) or poisson
}

// Action is an intervention at a time from the start of the run. Exactly
// one of its kinds is set.
type Action struct {
	At          Duration `yaml:"at,required" doc:"a duration from the start of the run, like 30s"`
	Description string   `yaml:"description"` // shown when the action fires
	Scale       *Scale   `yaml:"scale"`
	Set         *Set     `yaml:"set"`
	Fault       *Set     `yaml:"fault"`
	Stop        *Stop    `yaml:"stop"`
	Restock     *Restock `yaml:"restock"`
	Pause       *Pause   `yaml:"pause"`
	Backlog     *Backlog `yaml:"backlog"`
}

// Action kinds, as returned by Action.Kind.
const (
	ActionScale   = "scale"
	ActionSet     = "set"
	ActionFault   = "fault"
	ActionStop    = "stop"
	ActionRestock = "restock"
	ActionPause   = "pause"
	ActionBacklog = "backlog"
)

// ActionKinds returns the action kinds.
func ActionKinds() []string {
	return []string{ActionScale, ActionSet, ActionFault, ActionStop, ActionRestock, ActionPause, ActionBacklog}
}

// Kind names the action's kind; empty when none is set. When several are
// set it returns the first, and Validate reports the mix.
func (a Action) Kind() string {
	if k := a.kinds(); len(k) > 0 {
		return k[0]
	}
	return ""
}

func (a Action) kinds() []string {
	var k []string
	for _, c := range []struct {
		set  bool
		kind string
	}{
		{a.Scale != nil, ActionScale},
		{a.Set != nil, ActionSet},
		{a.Fault != nil, ActionFault},
		{a.Stop != nil, ActionStop},
		{a.Restock != nil, ActionRestock},
		{a.Pause != nil, ActionPause},
		{a.Backlog != nil, ActionBacklog},
	} {
		if c.set {
			k = append(k, c.kind)
		}
	}
	return k
}

// Knobs returns the knob change of a set or fault action, or nil.
func (a Action) Knobs() *Set {
	if a.Set != nil {
		return a.Set
	}
	return a.Fault
}

// Scale changes a stage's worker count for the rest of the run.
type Scale struct {
	Stage   string `yaml:"stage,required" doc:"one of payment, inventory, email"`
	Workers int    `yaml:"workers,required" doc:"a worker count, 1–1000"`
}

// Set changes any of a stage's knobs, for a while when For is set (then the
// previous values come back) or for the rest of the run. A fault action is a
// Set that must have For: an outage that clears itself.
type Set struct {
	Stage         string `yaml:"stage,required" doc:"one of payment, inventory, email"`
	StageOverride `yaml:",inline"`
	For           Duration `yaml:"for"` // 0: until the end of the run
}

// Stop stops a stage's consumers for a while; messages wait in its queue and
// are processed when it comes back.
type Stop struct {
	Stage string   `yaml:"stage,required" doc:"one of payment, inventory, email"`
	For   Duration `yaml:"for,required" doc:"a duration like 10s"`
}

// Restock adds stock to one product, or to every product when Product is 0.
type Restock struct {
	Product  int `yaml:"product"` // product id 1..catalog.products; omit for all
	Quantity int `yaml:"quantity,required" doc:"units to add, at least 1"`
}

// Pause stops offering load for a while. Orders due during the pause are
// not sent; the schedule resumes where it would have been.
type Pause struct {
	For Duration `yaml:"for,required" doc:"a duration like 5s"`
}

// Backlog changes the API's admission bound: while the pipeline's work
// queues hold more ready messages than Max, POST /api/orders answers 503
// (shed). Max 0 turns admission control off. With For, the previous bound
// comes back afterwards.
type Backlog struct {
	Max int      `yaml:"max,required" doc:"a number of ready messages, or 0 for off"`
	For Duration `yaml:"for"` // 0: until the end of the run
}

// Threshold fails the run when a metric ends up above Max or below Min.
type Threshold struct {
	Metric string `yaml:"metric,required" doc:"a metric name such as e2e_p99, lost_orders or achieved_rate_ratio"`
	Max    *Bound `yaml:"max"`
	Min    *Bound `yaml:"min"`
}

// TotalDuration is the length of the load: the sum of the phase durations.
// It saturates instead of overflowing.
func (s *Scenario) TotalDuration() time.Duration {
	var total time.Duration
	for _, p := range s.Phases {
		d := time.Duration(p.Duration)
		if d > 0 && total > time.Duration(1<<63-1)-d {
			return time.Duration(1<<63 - 1)
		}
		total += max(d, 0)
	}
	return total
}

// PhaseStart returns the offset of phase i from the start of the run.
func (s *Scenario) PhaseStart(i int) time.Duration {
	var t time.Duration
	for _, p := range s.Phases[:i] {
		t += time.Duration(p.Duration)
	}
	return t
}

// SetDefaults fills fields that were left out (zero) with their defaults.
// Parse calls it before Validate; call it on a scenario built in code.
func (s *Scenario) SetDefaults() {
	if s.Catalog.Products == 0 {
		s.Catalog.Products = DefaultProducts
	}
	if s.Catalog.Stock == 0 {
		s.Catalog.Stock = DefaultStock
	}
	// A bound left out must not contradict the one given: price_cents:
	// {max: 100} gets min 100, not the default 500.
	s.Catalog.PriceCents.Min, s.Catalog.PriceCents.Max = defaultRange(s.Catalog.PriceCents.Min, s.Catalog.PriceCents.Max, DefaultPriceMinCents, DefaultPriceMaxCents)
	if s.Orders.Product.Dist == "" {
		s.Orders.Product.Dist = ProductUniform
	}
	if s.Orders.Product.Dist == ProductZipf && s.Orders.Product.S == 0 {
		s.Orders.Product.S = DefaultZipfS
	}
	s.Orders.Quantity.Min, s.Orders.Quantity.Max = defaultRange(s.Orders.Quantity.Min, s.Orders.Quantity.Max, DefaultQuantityMin, DefaultQuantityMax)
	if s.Orders.Users == 0 {
		s.Orders.Users = DefaultUsers
	}
	if s.Retry.Backoff == 0 {
		s.Retry.Backoff = DefaultRetryBackoff
	}
	for i := range s.Phases {
		p := &s.Phases[i]
		if p.Name == "" {
			p.Name = fmt.Sprintf("phase-%d", i+1)
		}
		if p.Arrivals == "" {
			p.Arrivals = ArrivalsUniform
		}
	}
}

// defaultRange fills a zero lower or upper bound with its default, clamped
// so that it agrees with the bound that was given.
func defaultRange(lo, hi, defLo, defHi int) (int, int) {
	switch {
	case lo == 0 && hi == 0:
		return defLo, defHi
	case lo == 0:
		return min(defLo, hi), hi
	case hi == 0:
		return lo, max(defHi, lo)
	}
	return lo, hi
}
