package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// MetricKind says what a metric measures, and so how its threshold is
// written.
type MetricKind int

// Metric kinds.
const (
	MetricLatency MetricKind = iota + 1 // a duration; thresholds are written 500ms
	MetricCount                         // a whole count of orders or sends; thresholds are numbers ≥ 0
	MetricRatio                         // a fraction; thresholds are numbers like 0.01 or 0.95
)

// String names the kind.
func (k MetricKind) String() string {
	switch k {
	case MetricLatency:
		return "latency"
	case MetricCount:
		return "count"
	case MetricRatio:
		return "ratio"
	}
	return "unknown"
}

// Metric names that thresholds can refer to.
const (
	MetricErrorRate         = "error_rate"          // accepted orders not confirmed (declined, refunded, dead-lettered, lost) ÷ accepted
	MetricLostOrders        = "lost_orders"         // accepted orders with no terminal status after the drain
	MetricDuplicatedOrders  = "duplicated_orders"   // orders that reached a terminal status twice
	MetricDoubleCharges     = "double_charges"      // orders charged more than once (two paid events, redone or not)
	MetricDeadLettered      = "dead_lettered"       // messages sent to the dead-letter queue
	MetricAchievedRateRatio = "achieved_rate_ratio" // orders sent ÷ orders the schedule offered
	MetricLateSends         = "late_sends"          // sends that left later than their intended time
)

// latencyStats are the suffixes of latency metrics.
var latencyStats = []string{"p50", "p90", "p99", "p999", "max"}

// metrics lists every metric name with its kind, in documentation order.
var metrics = func() []metricInfo {
	var m []metricInfo
	for _, st := range latencyStats {
		m = append(m, metricInfo{"e2e_" + st, MetricLatency})
	}
	for _, stage := range StageNames() {
		for _, what := range []string{"queue_wait", "service_time"} {
			for _, st := range latencyStats {
				m = append(m, metricInfo{stage + "_" + what + "_" + st, MetricLatency})
			}
		}
	}
	return append(m,
		metricInfo{MetricErrorRate, MetricRatio},
		metricInfo{MetricLostOrders, MetricCount},
		metricInfo{MetricDuplicatedOrders, MetricCount},
		metricInfo{MetricDoubleCharges, MetricCount},
		metricInfo{MetricDeadLettered, MetricCount},
		metricInfo{MetricAchievedRateRatio, MetricRatio},
		metricInfo{MetricLateSends, MetricCount},
	)
}()

type metricInfo struct {
	name string
	kind MetricKind
}

// Metrics returns every metric name a threshold can use: e2e_p50 … e2e_max,
// <stage>_queue_wait_p50 … _max and <stage>_service_time_p50 … _max for each
// stage, then error_rate, lost_orders, duplicated_orders, double_charges,
// dead_lettered, achieved_rate_ratio and late_sends.
func Metrics() []string {
	out := make([]string, len(metrics))
	for i, m := range metrics {
		out[i] = m.name
	}
	return out
}

// MetricKindOf returns the kind of a metric, and false for an unknown name.
func MetricKindOf(name string) (MetricKind, bool) {
	for _, m := range metrics {
		if m.name == name {
			return m.kind, true
		}
	}
	return 0, false
}

// metricChoices describes the valid names compactly for error messages.
const metricChoices = "e2e_{p50,p90,p99,p999,max}, {payment,inventory,email}_{queue_wait,service_time}_{p50,p90,p99,p999,max}, " +
	"error_rate, lost_orders, duplicated_orders, double_charges, dead_lettered, achieved_rate_ratio, late_sends"

// Bound is a threshold limit: a duration for latency metrics (written 500ms)
// or a number for counts and ratios.
type Bound struct {
	Value      float64 // the limit; nanoseconds when IsDuration
	IsDuration bool    // written as a duration
}

// DurationBound returns a Bound for a latency metric.
func DurationBound(d time.Duration) *Bound { return &Bound{Value: float64(d), IsDuration: true} }

// NumberBound returns a Bound for a count or ratio metric.
func NumberBound(v float64) *Bound { return &Bound{Value: v} }

// Duration returns the limit as a duration (meaningful when IsDuration).
func (b Bound) Duration() time.Duration { return time.Duration(b.Value) }

// String formats the limit the way it is written.
func (b Bound) String() string {
	if b.IsDuration {
		return b.Duration().String()
	}
	return strconv.FormatFloat(b.Value, 'f', -1, 64)
}

// decodeYAML implements nodeDecoder: numbers stay numbers, strings must be
// durations. Whether the metric wants one or the other is checked by
// Validate, which knows the metric.
func (b *Bound) decodeYAML(dec *decoder, n ast.Node, path string) {
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			b.Value = float64(x)
		case uint64:
			b.Value = float64(x)
		}
		return
	case *ast.FloatNode:
		b.Value = v.Value
		return
	}
	s, ok := dec.scalarText(n)
	if !ok {
		dec.fail(n, path, "must be a number (for counts and ratios) or a duration like 500ms (for latencies), got %s", describe(n))
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		dec.fail(n, path, "%q is neither a number nor a duration; write a number like 0 or 0.95, or a duration like 500ms", s)
		return
	}
	*b = Bound{Value: float64(d), IsDuration: true}
}

// Kind returns the kind of the threshold's metric (0 if unknown).
func (t Threshold) Kind() MetricKind {
	k, _ := MetricKindOf(t.Metric)
	return k
}

// Check reports whether an observed value passes the threshold. Latencies
// are observed in nanoseconds (float64 of a time.Duration). A NaN value
// (metric not measured) fails.
func (t Threshold) Check(observed float64) bool {
	if math.IsNaN(observed) {
		return false
	}
	if t.Max != nil && observed > t.Max.Value {
		return false
	}
	if t.Min != nil && observed < t.Min.Value {
		return false
	}
	return true
}

// String describes the threshold, e.g. "e2e_p99 ≤ 500ms".
func (t Threshold) String() string {
	var parts []string
	if t.Min != nil {
		parts = append(parts, fmt.Sprintf("%s ≥ %s", t.Metric, t.Min))
	}
	if t.Max != nil {
		parts = append(parts, fmt.Sprintf("%s ≤ %s", t.Metric, t.Max))
	}
	if len(parts) == 0 {
		return t.Metric
	}
	return strings.Join(parts, " and ")
}

// Validate checks one threshold on its own by the rules Scenario.Validate
// applies to a scenario's thresholds: a known metric and a bound of its
// kind. It returns Errors whose fields are relative to the threshold
// (metric, max, min), or nil.
func (t Threshold) Validate() error {
	v := &validator{s: &Scenario{}}
	v.threshold("", t)
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}
