package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestParseDist(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in      string
		want    Dist
		wantErr bool
	}{
		{"5ms", Dist{Kind: DistConstant, Value: 5 * ms}, false},
		{"constant:0s", Dist{Kind: DistConstant}, false},
		{"uniform:1ms,9ms", Dist{Kind: DistUniform, Min: ms, Max: 9 * ms}, false},
		{"normal:5ms,1ms", Dist{Kind: DistNormal, Mean: 5 * ms, Stddev: ms}, false},
		{"lognormal:4ms,30ms", Dist{Kind: DistLognormal, Median: 4 * ms, P99: 30 * ms}, false},
		{"exponential:5ms", Dist{Kind: DistExponential, Mean: 5 * ms}, false},
		{"uniform:9ms,1ms", Dist{}, true},
		{"lognormal:30ms,4ms", Dist{}, true},
		{"gamma:1ms", Dist{}, true},
		{"uniform:1ms", Dist{}, true},
		{"fast", Dist{}, true},
		{"-1ms", Dist{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDist(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseDist(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			if back, err := ParseDist(got.String()); err != nil || back != got {
				t.Errorf("round trip of %q via %q = %+v, %v", tt.in, got.String(), back, err)
			}
		}
	}
}

// TestDistSamples checks each distribution's sample median and p99
// against its parameters.
func TestDistSamples(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		d             Dist
		median, p99   time.Duration
		mean          time.Duration
		tolerancePart float64
	}{
		{Dist{Kind: DistLognormal, Median: 4 * ms, P99: 30 * ms}, 4 * ms, 30 * ms, 0, 0.08},
		{Dist{Kind: DistUniform, Min: 10 * ms, Max: 20 * ms}, 15 * ms, 19900 * time.Microsecond, 15 * ms, 0.03},
		{Dist{Kind: DistExponential, Mean: 10 * ms}, 6931 * time.Microsecond, 46052 * time.Microsecond, 10 * ms, 0.08},
		{Dist{Kind: DistNormal, Mean: 50 * ms, Stddev: 5 * ms}, 50 * ms, 61632 * time.Microsecond, 50 * ms, 0.03},
		{Constant(3 * ms), 3 * ms, 3 * ms, 3 * ms, 0},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		const n = 50000
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = tt.d.Sample(r)
		}
		slices.Sort(s)
		near := func(name string, got, want time.Duration) {
			if diff := float64(got-want) / float64(want); diff > tt.tolerancePart || diff < -tt.tolerancePart {
				t.Errorf("%v: %s %v, want %v ±%.0f%%", tt.d, name, got, want, tt.tolerancePart*100)
			}
		}
		near("median", s[n/2], tt.median)
		near("p99", s[n*99/100], tt.p99)
		if tt.mean != 0 {
			near("MeanDuration", tt.d.MeanDuration(), tt.mean)
		}
	}
}
