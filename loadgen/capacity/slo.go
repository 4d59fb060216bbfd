package capacity

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"oms-sim/loadgen/scenario"
)

// SLO is one objective a probe must meet, such as e2e_p99<500ms. It is
// held as the scenario threshold that checks it, so a probe's report
// judges it with the same code as a scenario's thresholds.
type SLO struct {
	// Expr is the objective as written, normalised: metric, operator,
	// value with no spaces (e2e_p99<500ms).
	Expr      string
	Threshold scenario.Threshold
}

// String returns Expr.
func (s SLO) String() string { return s.Expr }

// operators in the order they must be tried: two-character ones first.
var operators = []string{"<=", ">=", "≤", "≥", "<", ">"}

// ErrSLO matches every error ParseSLO returns.
var ErrSLO = errors.New("bad SLO")

// ParseSLO parses METRIC<VALUE, METRIC<=VALUE, METRIC>VALUE or
// METRIC>=VALUE (≤ and ≥ too). METRIC is a scenario threshold metric
// (scenario.Metrics); VALUE is a duration for latencies (500ms), a whole
// number for counts and a number or percentage for ratios (0.01, 1%).
//
// A strict bound on a count is moved to the next whole number
// (lost_orders<1 is lost_orders≤0); on a latency or ratio it excludes the
// value itself (the threshold's limit is the next value below or above).
func ParseSLO(expr string) (SLO, error) {
	s := strings.TrimSpace(expr)
	op, at := "", -1
	for _, o := range operators {
		if i := strings.Index(s, o); i >= 0 && (at < 0 || i < at) {
			op, at = o, i
		}
	}
	if at < 0 {
		return SLO{}, fmt.Errorf("%w %q: write METRIC<VALUE, e.g. e2e_p99<500ms or error_rate<=0.01 (operators <, <=, >, >=)", ErrSLO, expr)
	}
	metric := strings.TrimSpace(s[:at])
	value := strings.TrimSpace(s[at+len(op):])
	switch op {
	case "≤":
		op = "<="
	case "≥":
		op = ">="
	}
	if metric == "" {
		return SLO{}, fmt.Errorf("%w %q: no metric before %s; valid metrics are %s", ErrSLO, expr, op, metricList())
	}
	kind, ok := scenario.MetricKindOf(metric)
	if !ok {
		// The scenario's own message names the valid metrics and suggests one.
		err := scenario.Threshold{Metric: metric, Max: scenario.NumberBound(0)}.Validate()
		return SLO{}, fmt.Errorf("%w %q: %s", ErrSLO, expr, messages(err))
	}
	if value == "" || strings.ContainsAny(value, "<>≤≥=") {
		return SLO{}, fmt.Errorf("%w %q: expected one value after %s: %s", ErrSLO, expr, op, example(kind))
	}
	b, err := parseBound(kind, value)
	if err != nil {
		return SLO{}, fmt.Errorf("%w %q: %v", ErrSLO, expr, err)
	}
	t := scenario.Threshold{Metric: metric}
	strict := op == "<" || op == ">"
	upper := op == "<" || op == "<="
	if strict {
		if err := tighten(kind, b, upper); err != nil {
			return SLO{}, fmt.Errorf("%w %q: %v", ErrSLO, expr, err)
		}
	}
	if upper {
		t.Max = b
	} else {
		t.Min = b
	}
	if err := t.Validate(); err != nil {
		return SLO{}, fmt.Errorf("%w %q: %s", ErrSLO, expr, messages(err))
	}
	return SLO{Expr: metric + op + value, Threshold: t}, nil
}

// parseBound reads the value for a metric of kind k.
func parseBound(k scenario.MetricKind, v string) (*scenario.Bound, error) {
	if k == scenario.MetricLatency {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a duration; a latency takes one like 500ms or 1.5s", v)
		}
		return scenario.DurationBound(d), nil
	}
	num, pct := strings.CutSuffix(v, "%")
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		if _, derr := time.ParseDuration(v); derr == nil {
			return nil, fmt.Errorf("%q is a duration, but this metric is a %s; write %s", v, k, example(k))
		}
		return nil, fmt.Errorf("%q is not a number; this metric is a %s: write %s", v, k, example(k))
	}
	if pct {
		if k != scenario.MetricRatio {
			return nil, fmt.Errorf("%q is a percentage, but this metric is a %s; write %s", v, k, example(k))
		}
		x /= 100
	}
	return scenario.NumberBound(x), nil
}

// tighten turns a strict bound into the inclusive one the threshold
// holds: the next whole number for counts, the next float otherwise
// (the next nanosecond for latencies).
func tighten(k scenario.MetricKind, b *scenario.Bound, upper bool) error {
	switch {
	case k == scenario.MetricCount && upper:
		if b.Value != math.Trunc(b.Value) {
			b.Value = math.Floor(b.Value)
		} else {
			b.Value--
		}
		if b.Value < 0 {
			return errors.New("a count is never below 0, so nothing could pass")
		}
	case k == scenario.MetricCount:
		if b.Value != math.Trunc(b.Value) {
			b.Value = math.Ceil(b.Value)
		} else {
			b.Value++
		}
	case k == scenario.MetricLatency && upper:
		if b.Value <= 0 {
			return errors.New("a latency is never below 0, so nothing could pass")
		}
		b.Value--
	case k == scenario.MetricLatency:
		b.Value++
	case upper:
		if b.Value <= 0 {
			return errors.New("a ratio is never below 0, so nothing could pass")
		}
		b.Value = math.Nextafter(b.Value, math.Inf(-1))
	default:
		if b.Value >= 1 {
			return errors.New("a ratio is never above 1, so nothing could pass")
		}
		b.Value = math.Nextafter(b.Value, math.Inf(1))
	}
	return nil
}

// messages joins the messages of scenario.Errors without their fields.
func messages(err error) string {
	var es scenario.Errors
	if !errors.As(err, &es) {
		return err.Error()
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return strings.Join(out, "; ")
}

func example(k scenario.MetricKind) string {
	switch k {
	case scenario.MetricLatency:
		return "a duration like 500ms"
	case scenario.MetricCount:
		return "a whole number like 0"
	}
	return "a number between 0 and 1 like 0.01, or a percentage like 1%"
}

// metricList names the valid metrics compactly.
func metricList() string {
	return "e2e_{p50,p90,p99,p999,max}, {payment,inventory,email}_{queue_wait,service_time}_{p50,p90,p99,p999,max}, " +
		"error_rate, lost_orders, duplicated_orders, double_charges, dead_lettered, achieved_rate_ratio, late_sends"
}
