package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Rate is an arrival rate in orders per second, written with an explicit
// unit: 50/s, 3000/m or 100/h. A bare number is rejected: "50" could mean
// per second or per minute, and guessing wrong is a 60x error.
type Rate float64

// PerSecond returns the rate in orders per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// String formats the rate per second, e.g. 50/s or 0.5/s.
func (r Rate) String() string {
	return strconv.FormatFloat(float64(r), 'f', -1, 64) + "/s"
}

// rateUnits maps each accepted unit to its length in seconds.
var rateUnits = map[string]float64{"s": 1, "m": 60, "h": 3600}

// ParseRate parses "N/s", "N/m" or "N/h" (N may have a fraction).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	num, unit, ok := strings.Cut(s, "/")
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	if !ok {
		if isNumber(s) {
			return 0, fmt.Errorf("rate %s needs a unit: write %s/s, %s/m or %s/h", s, s, s, s)
		}
		return 0, fmt.Errorf("%q is not a rate; write a count per unit like 50/s, 3000/m or 100/h", s)
	}
	secs, known := rateUnits[unit]
	if !known {
		return 0, fmt.Errorf("rate %q has unit %q; the unit must be s, m or h (50/s, 3000/m, 100/h)", s, unit)
	}
	if !isNumber(num) {
		return 0, fmt.Errorf("%q is not a rate; write a count per unit like 50/s, 3000/m or 100/h", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a rate; write a count per unit like 50/s, 3000/m or 100/h", s)
	}
	return Rate(v / secs), nil
}

// decodeYAML implements nodeDecoder.
func (r *Rate) decodeYAML(dec *decoder, n ast.Node, path string) {
	s, ok := dec.scalarText(n)
	if !ok {
		dec.fail(n, path, "must be a rate like 50/s, 3000/m or 100/h, got %s", describe(n))
		return
	}
	v, err := ParseRate(s)
	if err != nil {
		dec.fail(n, path, "%v", err)
		return
	}
	*r = v
}

// Rate shapes a phase can have; see RateSpec.
const (
	ShapeConstant = "constant"
	ShapeRamp     = "ramp"
	ShapeStep     = "step"
	ShapeSine     = "sine"
	ShapeBurst    = "burst"
)

// RateSpec is a phase's offered rate over time. It is written in one of
// five forms:
//
//	rate: 50/s                                               # constant
//	rate: {from: 100/s, to: 600/s}                           # linear ramp over the phase
//	rate: {steps: [100/s, 200/s, 400/s], every: 10s}         # a staircase
//	rate: {sine: {mean: 300/s, amplitude: 200/s, period: 20s}}
//	rate: {burst: {base: 50/s, peak: 1000/s, every: 20s, for: 2s}}
//
// Steps without every split the phase evenly; with every, step i starts at
// i*every and the last step holds to the end of the phase. A sine starts at
// its mean, rising. A burst phase opens at base and jumps to peak for `for`
// at every, 2*every, … from the phase start.
type RateSpec struct {
	Constant *Rate    `yaml:"-"`     // the scalar form
	From     *Rate    `yaml:"from"`  // ramp start
	To       *Rate    `yaml:"to"`    // ramp end, reached when the phase ends
	Steps    []Rate   `yaml:"steps"` // staircase levels in order
	Every    Duration `yaml:"every"` // length of each step; 0 splits the phase evenly
	Sine     *Sine    `yaml:"sine"`
	Burst    *Burst   `yaml:"burst"`
}

// Sine is a rate that swings around Mean by Amplitude once per Period.
type Sine struct {
	Mean      Rate     `yaml:"mean,required" doc:"a rate like 300/s"`
	Amplitude Rate     `yaml:"amplitude,required" doc:"a rate no larger than mean, like 200/s"`
	Period    Duration `yaml:"period,required" doc:"a duration like 20s"`
}

// Burst is a base rate with a spike to Peak lasting For, every Every.
type Burst struct {
	Base  Rate     `yaml:"base"` // rate between bursts; 0/s when omitted
	Peak  Rate     `yaml:"peak,required" doc:"a rate like 1000/s"`
	Every Duration `yaml:"every,required" doc:"a duration between burst starts, like 20s"`
	For   Duration `yaml:"for,required" doc:"a duration shorter than every, like 2s"`
}

// Kind names the form in use: ShapeConstant, ShapeRamp, ShapeStep,
// ShapeSine or ShapeBurst; empty when none is set. When several are set it
// returns the first, and Validate reports the mix.
func (r RateSpec) Kind() string {
	if k := r.kinds(); len(k) > 0 {
		return k[0]
	}
	return ""
}

// kinds lists every form that has a field set.
func (r RateSpec) kinds() []string {
	var k []string
	if r.Constant != nil {
		k = append(k, ShapeConstant)
	}
	if r.From != nil || r.To != nil {
		k = append(k, ShapeRamp)
	}
	if r.Steps != nil || r.Every != 0 {
		k = append(k, ShapeStep)
	}
	if r.Sine != nil {
		k = append(k, ShapeSine)
	}
	if r.Burst != nil {
		k = append(k, ShapeBurst)
	}
	return k
}

// decodeYAML implements nodeDecoder: a scalar is the constant form, a
// mapping one of the others.
func (r *RateSpec) decodeYAML(dec *decoder, n ast.Node, path string) {
	n = dec.resolve(n, path)
	if n == nil {
		return
	}
	if _, ok := n.(ast.MapNode); ok {
		dec.decodeStruct(n, reflectValueOf(r), path)
		return
	}
	var c Rate
	if _, ok := dec.scalarText(n); !ok {
		dec.fail(n, path, "must be a rate like 50/s, or a mapping {from, to}, {steps, every}, {sine: …} or {burst: …}, got %s", describe(n))
		return
	}
	c.decodeYAML(dec, n, path)
	r.Constant = &c
}
