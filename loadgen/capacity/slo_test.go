package capacity

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"oms-sim/loadgen/scenario"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestParseSLO(t *testing.T) {
	t.Parallel()
	ms := func(v float64) float64 { return v * float64(time.Millisecond) }
	tests := []struct {
		in       string
		expr     string
		pass     []float64 // observed values (ns for latencies) that meet it
		fail     []float64
		wantDesc string // in Threshold.String()
	}{
		{"e2e_p99<500ms", "e2e_p99<500ms", []float64{ms(499.9), 0}, []float64{ms(500), ms(501), math.NaN()}, "e2e_p99 ≤"},
		{" e2e_p99 <= 500ms ", "e2e_p99<=500ms", []float64{ms(500)}, []float64{ms(500.001)}, "e2e_p99 ≤ 500ms"},
		{"payment_queue_wait_p90≤1s", "payment_queue_wait_p90<=1s", []float64{ms(1000)}, []float64{ms(1001)}, "≤ 1s"},
		{"error_rate<1%", "error_rate<1%", []float64{0.0099, 0}, []float64{0.01, 0.5}, "error_rate ≤"},
		{"error_rate<=0.01", "error_rate<=0.01", []float64{0.01}, []float64{0.0101}, "error_rate ≤ 0.01"},
		{"achieved_rate_ratio>=0.99", "achieved_rate_ratio>=0.99", []float64{0.99, 1}, []float64{0.98}, "≥ 0.99"},
		{"achieved_rate_ratio>0.99", "achieved_rate_ratio>0.99", []float64{0.995}, []float64{0.99}, "achieved_rate_ratio ≥"},
		{"lost_orders<1", "lost_orders<1", []float64{0}, []float64{1}, "lost_orders ≤ 0"},
		{"late_sends<=10", "late_sends<=10", []float64{10}, []float64{11}, "late_sends ≤ 10"},
		{"dead_lettered<2.5", "dead_lettered<2.5", []float64{2}, []float64{3}, "≤ 2"},
		{"e2e_max>1ms", "e2e_max>1ms", []float64{ms(2)}, []float64{ms(1)}, "e2e_max ≥"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSLO(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.Expr != tc.expr || s.String() != tc.expr {
				t.Errorf("expr %q, want %q", s.Expr, tc.expr)
			}
			if d := s.Threshold.String(); !contains(d, tc.wantDesc) {
				t.Errorf("threshold %q, want it to contain %q", d, tc.wantDesc)
			}
			for _, v := range tc.pass {
				if !s.Threshold.Check(v) {
					t.Errorf("%g fails, want pass", v)
				}
			}
			for _, v := range tc.fail {
				if s.Threshold.Check(v) {
					t.Errorf("%g passes, want fail", v)
				}
			}
		})
	}
}

func TestParseSLOErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "write METRIC<VALUE"},
		{"e2e_p99", "write METRIC<VALUE"},
		{"e2e_p99=500ms", "write METRIC<VALUE"},
		{"<500ms", "no metric"},
		{"e2e_p98<500ms", `unknown metric "e2e_p98"; valid metrics are e2e_{p50`},
		{"e2e_p98<500ms", `did you mean`},
		{"e2e_p99<", "expected one value"},
		{"e2e_p99<<5ms", "expected one value"},
		{"e2e_p99<500", `"500" is not a duration`},
		{"e2e_p99<-5ms", "not a duration"},
		{"e2e_p99<0s", "never below 0"},
		{"error_rate<500ms", "is a duration, but this metric is a ratio"},
		{"error_rate<2", "between 0 and 1"},
		{"error_rate>1", "never above 1"},
		{"error_rate<0", "never below 0"},
		{"lost_orders<0", "never below 0"},
		{"lost_orders<=0.5", "whole number"},
		{"lost_orders<1%", "percentage, but this metric is a count"},
		{"lost_orders<abc", `"abc" is not a number`},
	}
	for _, tc := range tests {
		_, err := ParseSLO(tc.in)
		if err == nil {
			t.Errorf("%q accepted", tc.in)
			continue
		}
		if !errors.Is(err, ErrSLO) || !contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q, want ErrSLO mentioning %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseSLO checks that no input panics, that every error is an
// ErrSLO, and that whatever is accepted is a valid threshold on a known
// metric that parses again to itself.
func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"e2e_p99<500ms", "error_rate<=1%", "lost_orders<1", "achieved_rate_ratio>0.99",
		"payment_queue_wait_p999≥3s", "e2e_p99<<", "≤≥", "x<1e309", "late_sends<=NaN", "e2e_max<9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSLO(in)
		if err != nil {
			if !errors.Is(err, ErrSLO) {
				t.Fatalf("%q: error %v is not ErrSLO", in, err)
			}
			return
		}
		if _, ok := scenario.MetricKindOf(s.Threshold.Metric); !ok {
			t.Fatalf("%q: accepted unknown metric %q", in, s.Threshold.Metric)
		}
		if err := s.Threshold.Validate(); err != nil {
			t.Fatalf("%q: accepted an invalid threshold: %v", in, err)
		}
		if (s.Threshold.Max == nil) == (s.Threshold.Min == nil) {
			t.Fatalf("%q: want exactly one bound, got %+v", in, s.Threshold)
		}
		again, err := ParseSLO(s.Expr)
		if err != nil || again.Expr != s.Expr || again.Threshold.String() != s.Threshold.String() {
			t.Fatalf("%q → %q does not parse to itself: %v %+v", in, s.Expr, err, again)
		}
	})
}
