package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Distribution kinds for service times.
const (
	DistConstant    = "constant"
	DistUniform     = "uniform"
	DistNormal      = "normal"
	DistLognormal   = "lognormal"
	DistExponential = "exponential"
)

// DistKinds lists the valid distribution kinds.
var DistKinds = []string{DistConstant, DistUniform, DistNormal, DistLognormal, DistExponential}

// z99 is the standard normal quantile at 0.99, used to turn a lognormal's
// median and p99 into its sigma.
const z99 = 2.3263478740408408

// Dist is a service-time distribution. Which fields matter depends on Kind:
// constant uses Value; uniform Min and Max; normal Mean and Stddev;
// lognormal Median and P99; exponential Mean. Samples are never negative.
type Dist struct {
	Kind   string        `json:"dist"`
	Value  time.Duration `json:"value,omitempty"`
	Min    time.Duration `json:"min,omitempty"`
	Max    time.Duration `json:"max,omitempty"`
	Mean   time.Duration `json:"mean,omitempty"`
	Stddev time.Duration `json:"stddev,omitempty"`
	Median time.Duration `json:"median,omitempty"`
	P99    time.Duration `json:"p99,omitempty"`
}

// Constant returns a distribution that always yields d.
func Constant(d time.Duration) Dist { return Dist{Kind: DistConstant, Value: d} }

// Validate reports a problem with the parameters, naming the valid choices.
func (d Dist) Validate() error {
	neg := func(name string, v time.Duration) error {
		if v < 0 {
			return fmt.Errorf("%s must not be negative, got %v", name, v)
		}
		return nil
	}
	switch d.Kind {
	case DistConstant, "":
		return neg("value", d.Value)
	case DistUniform:
		if d.Min < 0 || d.Max < d.Min {
			return fmt.Errorf("uniform needs 0 <= min <= max, got min %v max %v", d.Min, d.Max)
		}
	case DistNormal:
		if err := neg("mean", d.Mean); err != nil {
			return err
		}
		return neg("stddev", d.Stddev)
	case DistLognormal:
		if d.Median <= 0 || d.P99 < d.Median {
			return fmt.Errorf("lognormal needs 0 < median <= p99, got median %v p99 %v", d.Median, d.P99)
		}
	case DistExponential:
		return neg("mean", d.Mean)
	default:
		return fmt.Errorf("unknown distribution %q: valid are %s", d.Kind, strings.Join(DistKinds, ", "))
	}
	return nil
}

// Sample draws one service time.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	var v float64
	switch d.Kind {
	case DistConstant, "":
		return d.Value
	case DistUniform:
		v = float64(d.Min) + r.Float64()*float64(d.Max-d.Min)
	case DistNormal:
		v = float64(d.Mean) + r.NormFloat64()*float64(d.Stddev)
	case DistLognormal:
		mu, sigma := d.lognormal()
		v = math.Exp(mu + sigma*r.NormFloat64())
	case DistExponential:
		v = r.ExpFloat64() * float64(d.Mean)
	}
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	if v > float64(time.Hour) {
		return time.Hour
	}
	return time.Duration(v)
}

func (d Dist) lognormal() (mu, sigma float64) {
	mu = math.Log(float64(d.Median))
	sigma = (math.Log(float64(d.P99)) - mu) / z99
	return mu, sigma
}

// MeanDuration is the distribution's expected value, used for utilisation.
func (d Dist) MeanDuration() time.Duration {
	switch d.Kind {
	case DistUniform:
		return (d.Min + d.Max) / 2
	case DistNormal, DistExponential:
		return d.Mean
	case DistLognormal:
		mu, sigma := d.lognormal()
		return time.Duration(math.Exp(mu + sigma*sigma/2))
	}
	return d.Value
}

// String renders the distribution in the short form ParseDist reads.
func (d Dist) String() string {
	switch d.Kind {
	case DistUniform:
		return fmt.Sprintf("uniform:%v,%v", d.Min, d.Max)
	case DistNormal:
		return fmt.Sprintf("normal:%v,%v", d.Mean, d.Stddev)
	case DistLognormal:
		return fmt.Sprintf("lognormal:%v,%v", d.Median, d.P99)
	case DistExponential:
		return fmt.Sprintf("exponential:%v", d.Mean)
	}
	return d.Value.String()
}

// ParseDist reads the short form used on the command line and in the admin
// API: "5ms" or "constant:5ms", "uniform:1ms,9ms", "normal:5ms,1ms"
// (mean, stddev), "lognormal:4ms,30ms" (median, p99), "exponential:5ms".
func ParseDist(s string) (Dist, error) {
	kind, args, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		kind, args = DistConstant, kind
	}
	var ds []time.Duration
	for _, a := range strings.Split(args, ",") {
		v, err := time.ParseDuration(strings.TrimSpace(a))
		if err != nil {
			return Dist{}, fmt.Errorf("service time %q: %q is not a duration like 5ms", s, a)
		}
		ds = append(ds, v)
	}
	want := map[string]int{DistConstant: 1, DistUniform: 2, DistNormal: 2, DistLognormal: 2, DistExponential: 1}
	n, ok := want[kind]
	if !ok {
		return Dist{}, fmt.Errorf("service time %q: unknown distribution %q: valid are %s", s, kind, strings.Join(DistKinds, ", "))
	}
	if len(ds) != n {
		return Dist{}, fmt.Errorf("service time %q: %s takes %d duration(s), got %d", s, kind, n, len(ds))
	}
	d := Dist{Kind: kind}
	switch kind {
	case DistConstant:
		d.Value = ds[0]
	case DistUniform:
		d.Min, d.Max = ds[0], ds[1]
	case DistNormal:
		d.Mean, d.Stddev = ds[0], ds[1]
	case DistLognormal:
		d.Median, d.P99 = ds[0], ds[1]
	case DistExponential:
		d.Mean = ds[0]
	}
	return d, d.Validate()
}

// UnmarshalJSON accepts either the short string form or an object whose
// durations are strings: {"dist":"lognormal","median":"4ms","p99":"30ms"}.
func (d *Dist) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := ParseDist(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("service_time must be a string like \"lognormal:4ms,30ms\" or an object with string durations")
	}
	out := Dist{Kind: m["dist"]}
	if out.Kind == "" {
		out.Kind = DistConstant
	}
	fields := map[string]*time.Duration{"value": &out.Value, "min": &out.Min, "max": &out.Max,
		"mean": &out.Mean, "stddev": &out.Stddev, "median": &out.Median, "p99": &out.P99}
	for k, v := range m {
		if k == "dist" {
			continue
		}
		p, ok := fields[k]
		if !ok {
			return fmt.Errorf("service_time: unknown field %q: valid are dist, value, min, max, mean, stddev, median, p99", k)
		}
		dv, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("service_time.%s: %q is not a duration like 5ms", k, v)
		}
		*p = dv
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*d = out
	return nil
}

// MarshalJSON writes the object form with string durations.
func (d Dist) MarshalJSON() ([]byte, error) {
	m := map[string]string{"dist": d.Kind}
	if d.Kind == "" {
		m["dist"] = DistConstant
	}
	add := func(k string, v time.Duration, keep bool) {
		if keep {
			m[k] = v.String()
		}
	}
	add("value", d.Value, d.Kind == DistConstant || d.Kind == "")
	add("min", d.Min, d.Kind == DistUniform)
	add("max", d.Max, d.Kind == DistUniform)
	add("mean", d.Mean, d.Kind == DistNormal || d.Kind == DistExponential)
	add("stddev", d.Stddev, d.Kind == DistNormal)
	add("median", d.Median, d.Kind == DistLognormal)
	add("p99", d.P99, d.Kind == DistLognormal)
	return json.Marshal(m)
}

// longest is the longest duration the distribution names.
func (d Dist) longest() time.Duration {
	return max(d.Value, d.Min, d.Max, d.Mean, d.Stddev, d.Median, d.P99)
}
