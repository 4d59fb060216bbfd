package engine

import (
	"math"
	"testing"
	"time"
)

// Erlang C against values from the textbook formula, computed by hand:
// C(c, a) = (a^c/c!)·c/(c−a) ÷ (Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a)).
func TestErlangC(t *testing.T) {
	t.Parallel()
	textbook := func(c int, a float64) float64 {
		sum, term := 0.0, 1.0
		for k := 0; k < c; k++ {
			if k > 0 {
				term *= a / float64(k)
			}
			sum += term
		}
		last := term * a / float64(c) * float64(c) / (float64(c) - a)
		return last / (sum + last)
	}
	for _, tc := range []struct {
		c    int
		a    float64
		want float64
	}{
		{1, 0.5, 0.5}, // M/M/1: P(wait) = ρ
		{1, 0.9, 0.9},
		{2, 1.0, 1.0 / 3}, // ρ 0.5 with two servers
		{2, 1.8, textbook(2, 1.8)},
		{6, 4.2, textbook(6, 4.2)},
		{20, 15, textbook(20, 15)},
	} {
		if got := ErlangC(tc.c, tc.a); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ErlangC(%d, %v) = %v, want %v", tc.c, tc.a, got, tc.want)
		}
	}
	// Many servers: the recurrence stays finite where a^c/c! would not.
	if got := ErlangC(500, 450); math.IsNaN(got) || got <= 0 || got >= 1 {
		t.Errorf("ErlangC(500, 450) = %v", got)
	}
	if ErlangC(2, 2) != 1 || ErlangC(0, 1) != 0 {
		t.Error("ErlangC at ρ = 1 or without servers")
	}
}

func TestPredict(t *testing.T) {
	t.Parallel()
	// M/M/1 at ρ 0.5, service 10 ms: Wq = ρ/(μ−λ) = 0.5/(100−50) = 10 ms.
	p, ok := Predict(50, 10*time.Millisecond, 1)
	if !ok || !p.Stable || math.Abs(p.PWait-0.5) > 1e-9 || (p.Wait-10*time.Millisecond).Abs() > time.Microsecond || math.Abs(p.QueueLen-0.5) > 1e-6 {
		t.Errorf("M/M/1 at ρ 0.5: %+v", p)
	}
	// The tour's rush: 250/s on two workers at 10 ms cannot be served:
	// the queue grows by 250 − 200 = 50 a second.
	p, ok = Predict(250, 10*time.Millisecond, 2)
	if !ok || p.Stable || math.Abs(p.Rho-1.25) > 1e-9 || math.Abs(p.Growth-50) > 1e-9 || p.Wait != 0 {
		t.Errorf("overload: %+v", p)
	}
	for _, bad := range []struct {
		l float64
		s time.Duration
		c int
	}{{10, 0, 2}, {10, time.Millisecond, 0}, {math.NaN(), time.Millisecond, 1}, {-1, time.Millisecond, 1}} {
		if _, ok := Predict(bad.l, bad.s, bad.c); ok {
			t.Errorf("Predict(%v, %v, %d) predicted", bad.l, bad.s, bad.c)
		}
	}
}

func TestCheckLittle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		waiting, lambda float64
		wait            time.Duration
		ok              bool
	}{
		{100, 200, 500 * time.Millisecond, true}, // 100 vs 100
		{0.2, 100, time.Millisecond, true},       // both under one message
		{400, 200, 500 * time.Millisecond, false},
		{5, 0, 0, false},
	} {
		if got := checkLittle(tc.waiting, tc.lambda, tc.wait); got.Consistent != tc.ok {
			t.Errorf("checkLittle(%v, %v, %v) = %+v, want consistent %v", tc.waiting, tc.lambda, tc.wait, got, tc.ok)
		}
	}
}
