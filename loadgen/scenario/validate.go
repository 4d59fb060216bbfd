package scenario

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"oms-sim/engine"
)

// Limits that Validate enforces. They are far beyond what one process can
// drive; they exist to catch typos such as a missing decimal point. The
// stage knobs' and restock's are the engine's own (engine/limits.go), so
// a scenario that validates is one the engine accepts.
const (
	MaxRate         Rate     = 1_000_000 // per second
	MaxDuration     Duration = Duration(7 * 24 * time.Hour)
	MaxServiceTime  Duration = Duration(engine.MaxServiceTime)
	MaxWorkers               = engine.MaxWorkers
	MaxPrefetch              = engine.MaxPrefetch // AMQP's prefetch count is 16 bits
	MaxPhases                = 1_000
	MaxProducts              = 1_000_000
	MaxUsers                 = 1_000_000_000
	MaxQuantity              = 1_000
	MaxPriceCents            = 100_000_000
	MaxStock                 = 1_000_000_000
	MaxRestock               = engine.MaxRestock
	MaxRetries               = 10
	MaxRetryBackoff          = Duration(10 * time.Second)
	MaxBacklog               = 1_000_000_000
)

// validator collects problems with the positions the decoder recorded.
type validator struct {
	s    *Scenario
	errs Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	if v.s.src.failed(path) {
		return // the decoder already reported this spot
	}
	p := v.s.src.locate(path)
	file := ""
	if v.s.src != nil {
		file = v.s.src.file
	}
	v.errs = append(v.errs, &Error{File: file, Line: p.line, Column: p.col, Field: path, Message: fmt.Sprintf(format, args...)})
}

// emptyf reports that the mapping at path lacks something, unless it had an
// unknown field, which is the likelier cause and already reported.
func (v *validator) emptyf(path, format string, args ...any) {
	if v.s.src != nil && v.s.src.unknown[path] {
		return
	}
	v.errorf(path, format, args...)
}

// validate returns every problem, unsorted.
func (s *Scenario) validate() Errors {
	v := &validator{s: s}
	if strings.TrimSpace(s.Name) == "" {
		v.errorf("name", "is required: a short name for reports, like burst")
	} else if len(s.Name) > 100 || strings.ContainsAny(s.Name, "\n\r\t") {
		v.errorf("name", "must be one line of at most 100 characters")
	}
	v.phases()
	v.stages()
	v.catalog()
	v.broker()
	v.orders()
	v.retry()
	for i, a := range s.Actions {
		v.action(indexPath("actions", i), a)
	}
	for i, t := range s.Thresholds {
		v.threshold(indexPath("thresholds", i), t)
	}
	return v.errs
}

// positiveDuration checks 0 < d ≤ limit.
func (v *validator) positiveDuration(path string, d, limit Duration) {
	switch {
	case d <= 0:
		v.errorf(path, "must be a positive duration like 30s, got %s", d)
	case d > limit:
		v.errorf(path, "%s is longer than the maximum of %s", d, limit)
	}
}

func (v *validator) intRange(path string, x, lo, hi int, what string) {
	if x < lo || x > hi {
		v.errorf(path, "must be %s between %d and %d, got %d", what, lo, hi, x)
	}
}

func (v *validator) fraction(path string, x float64) {
	if x < 0 || x > 1 || math.IsNaN(x) {
		v.errorf(path, "must be a fraction between 0 and 1 (0.02 means 2%%), got %g", x)
	}
}

// oneOfAnd renders "a", "a and b" or "a, b and c".
func oneOfAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func (v *validator) catalog() {
	c := v.s.Catalog
	v.intRange("catalog.products", c.Products, 1, MaxProducts, "a product count")
	v.intRange("catalog.stock", c.Stock, 0, MaxStock, "a stock level")
	v.intRange("catalog.price_cents.min", c.PriceCents.Min, 1, MaxPriceCents, "a price in cents")
	v.intRange("catalog.price_cents.max", c.PriceCents.Max, 1, MaxPriceCents, "a price in cents")
	if c.PriceCents.Min > c.PriceCents.Max {
		v.errorf("catalog.price_cents.max", "%d is below min %d", c.PriceCents.Max, c.PriceCents.Min)
	}
}

func (v *validator) broker() {
	b := v.s.Broker
	if b.BodyBytes != nil {
		v.intRange("broker.body_bytes", *b.BodyBytes, 0, MaxBodyBytes, "a message size in bytes (0: the order JSON as it is)")
	}
	if c := b.Connections; c != "" && !slices.Contains(ConnLayouts(), c) {
		v.errorf("broker.connections", "must be one of %s, got %q%s", strings.Join(ConnLayouts(), ", "), c, suggest(c, ConnLayouts()))
	}
}

func (v *validator) orders() {
	o := v.s.Orders
	switch o.Product.Dist {
	case ProductUniform:
		if o.Product.S != 0 {
			v.errorf("orders.product.s", "applies only to dist zipf; remove it or set dist: zipf")
		}
	case ProductZipf:
		if o.Product.S <= 1 || o.Product.S > 10 {
			v.errorf("orders.product.s", "must be above 1 and at most 10 for zipf (1.1 is mild, 2 makes a few products dominate), got %g", o.Product.S)
		}
	default:
		v.errorf("orders.product.dist", "must be uniform or zipf, got %q%s", o.Product.Dist, suggest(o.Product.Dist, []string{ProductUniform, ProductZipf}))
	}
	v.intRange("orders.quantity.min", o.Quantity.Min, 1, MaxQuantity, "a quantity")
	v.intRange("orders.quantity.max", o.Quantity.Max, 1, MaxQuantity, "a quantity")
	if o.Quantity.Min > o.Quantity.Max {
		v.errorf("orders.quantity.max", "%d is below min %d", o.Quantity.Max, o.Quantity.Min)
	}
	v.intRange("orders.users", o.Users, 1, MaxUsers, "a user count")
}

func (v *validator) retry() {
	r := v.s.Retry
	v.intRange("retry.max", r.Max, 0, MaxRetries, "a number of resends (0: off)")
	switch {
	case r.Backoff < 0:
		v.errorf("retry.backoff", "must be a positive duration like 100ms, got %s", r.Backoff)
	case r.Backoff > MaxRetryBackoff:
		v.errorf("retry.backoff", "%s is longer than the maximum of %s", r.Backoff, MaxRetryBackoff)
	}
}

func (v *validator) action(path string, a Action) {
	total := v.s.TotalDuration()
	switch {
	case a.At < 0:
		v.errorf(joinPath(path, "at"), "must not be negative, got %s", a.At)
	case total > 0 && time.Duration(a.At) > total:
		v.errorf(joinPath(path, "at"), "%s is after the load ends at %s; actions must fall within the phases", a.At, total)
	}
	kinds := a.kinds()
	switch len(kinds) {
	case 0:
		v.emptyf(path, "needs one of %s, like {at: 30s, scale: {stage: payment, workers: 8}}", strings.Join(ActionKinds(), ", "))
		return
	case 1:
	default:
		v.errorf(path, "has %s; give each action its own list item", oneOfAnd(kinds))
		return
	}
	if d := a.lasts(); total > 0 && d > 0 && a.At >= 0 && time.Duration(a.At) <= total && time.Duration(a.At)+d > total {
		v.errorf(joinPath(joinPath(path, kinds[0]), "for"), "%s from %s ends after the load ends at %s; it would be undone early, when the load ends: shorten it to at most %s",
			Duration(d), a.At, total, Duration(max(0, total-time.Duration(a.At))))
	}
	switch kinds[0] {
	case ActionScale:
		p := joinPath(path, "scale")
		v.stageName(joinPath(p, "stage"), a.Scale.Stage)
		v.intRange(joinPath(p, "workers"), a.Scale.Workers, 1, MaxWorkers, "a worker count")
	case ActionSet, ActionFault:
		p := joinPath(path, kinds[0])
		set := a.Knobs()
		stage := set.Stage
		if !v.stageName(joinPath(p, "stage"), set.Stage) {
			stage = ""
		}
		if set.empty() {
			v.emptyf(p, "changes nothing; give at least one of workers, prefetch, service_time, error_rate, decline_rate")
		}
		v.override(p, stage, &set.StageOverride)
		switch {
		case set.For < 0:
			v.errorf(joinPath(p, "for"), "must be a positive duration, got %s", set.For)
		case kinds[0] == ActionFault && set.For == 0:
			v.errorf(joinPath(p, "for"), "is required for a fault: how long it lasts, like for: 10s (use set for a permanent change)")
		case set.For > MaxDuration:
			v.errorf(joinPath(p, "for"), "%s is longer than the maximum of %s", set.For, MaxDuration)
		}
	case ActionStop:
		p := joinPath(path, "stop")
		v.stageName(joinPath(p, "stage"), a.Stop.Stage)
		v.positiveDuration(joinPath(p, "for"), a.Stop.For, MaxDuration)
	case ActionRestock:
		p := joinPath(path, "restock")
		if r := a.Restock.Product; r < 0 || r > v.s.Catalog.Products {
			v.errorf(joinPath(p, "product"), "must be a product id between 1 and %d (catalog.products), or omitted to restock every product; got %d", v.s.Catalog.Products, r)
		}
		v.intRange(joinPath(p, "quantity"), a.Restock.Quantity, 1, MaxRestock, "a quantity")
	case ActionPause:
		v.positiveDuration(joinPath(path, "pause.for"), a.Pause.For, MaxDuration)
	case ActionBacklog:
		p := joinPath(path, "backlog")
		v.intRange(joinPath(p, "max"), a.Backlog.Max, 0, MaxBacklog, "a number of ready messages (0: off)")
		switch f := a.Backlog.For; {
		case f < 0:
			v.errorf(joinPath(p, "for"), "must be a positive duration, or omitted to keep the bound until the end; got %s", f)
		case f > MaxDuration:
			v.errorf(joinPath(p, "for"), "%s is longer than the maximum of %s", f, MaxDuration)
		}
	}
}

func (v *validator) threshold(path string, t Threshold) {
	kind, ok := MetricKindOf(t.Metric)
	if !ok {
		if t.Metric == "" {
			v.errorf(joinPath(path, "metric"), "is required: one of %s", metricChoices)
		} else {
			v.errorf(joinPath(path, "metric"), "unknown metric %q; valid metrics are %s%s", t.Metric, metricChoices, suggest(t.Metric, Metrics()))
		}
	}
	if t.Max == nil && t.Min == nil {
		v.emptyf(path, "needs max or min, like {metric: e2e_p99, max: 500ms}")
		return
	}
	for _, b := range []struct {
		name  string
		bound *Bound
	}{{"max", t.Max}, {"min", t.Min}} {
		if b.bound == nil || !ok {
			continue
		}
		p := joinPath(path, b.name)
		switch x := b.bound.Value; kind {
		case MetricLatency:
			if !b.bound.IsDuration {
				v.errorf(p, "%s is a latency: write a duration like 500ms, not the number %s", t.Metric, b.bound)
			} else if x < 0 {
				v.errorf(p, "must not be negative, got %s", b.bound)
			}
		case MetricCount:
			if b.bound.IsDuration {
				v.errorf(p, "%s is a count: write a whole number like 0, not a duration", t.Metric)
			} else if x < 0 || x != math.Trunc(x) {
				v.errorf(p, "%s is a count: write a whole number ≥ 0, got %s", t.Metric, b.bound)
			}
		case MetricRatio:
			if b.bound.IsDuration {
				v.errorf(p, "%s is a ratio: write a number between 0 and 1 like 0.95, not a duration", t.Metric)
			} else if x < 0 || x > 1 {
				v.errorf(p, "%s is a ratio: write a number between 0 and 1, got %s", t.Metric, b.bound)
			}
		}
	}
	if ok && t.Max != nil && t.Min != nil && t.Min.Value > t.Max.Value && t.Min.IsDuration == t.Max.IsDuration {
		v.errorf(joinPath(path, "min"), "%s is above max %s; no value could pass", t.Min, t.Max)
	}
}

// lasts is how long an action with an end (for) is in force; 0 for one
// that lasts until the end of the run or has no duration.
func (a Action) lasts() time.Duration {
	switch {
	case a.Knobs() != nil:
		return a.Knobs().For.Std()
	case a.Stop != nil:
		return a.Stop.For.Std()
	case a.Pause != nil:
		return a.Pause.For.Std()
	case a.Backlog != nil:
		return a.Backlog.For.Std()
	}
	return 0
}
