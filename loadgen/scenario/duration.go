package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Duration is a span of time written as a Go duration string: 500ms, 10s,
// 1m30s, 2h. A bare number is rejected because its unit would be a guess.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way it is written in a scenario file.
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses a Go duration string, explaining the accepted form
// when s is not one.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration; write a Go duration like 500ms, 10s or 1m30s")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		if isNumber(s) {
			return 0, fmt.Errorf("duration %s needs a unit: write %ss, %sms or %sm", s, s, s, s)
		}
		return 0, fmt.Errorf("%q is not a duration; write a Go duration like 500ms, 10s or 1m30s (units ns, us, ms, s, m, h)", s)
	}
	return Duration(v), nil
}

// decodeYAML implements nodeDecoder.
func (d *Duration) decodeYAML(dec *decoder, n ast.Node, path string) {
	s, ok := dec.scalarText(n)
	if !ok {
		dec.fail(n, path, "must be a duration like 500ms, 10s or 1m30s, got %s", describe(n))
		return
	}
	v, err := ParseDuration(s)
	if err != nil {
		dec.fail(n, path, "%v", err)
		return
	}
	*d = v
}

// isNumber reports whether s looks like a plain decimal number.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
		case (r == '-' || r == '+') && i == 0:
		default:
			return false
		}
	}
	return digits > 0
}
