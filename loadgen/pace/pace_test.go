package pace

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// shapeCases are one of each shape, with a phase length that exercises it.
var shapeCases = []struct {
	name  string
	shape Shape
	dur   time.Duration
}{
	{"constant", Constant{PerSecond: 100}, 10 * time.Second},
	{"constant-fraction", Constant{PerSecond: 0.7}, 60 * time.Second},
	{"ramp-up", Linear{From: 10, To: 500, Over: 20 * time.Second}, 20 * time.Second},
	{"ramp-down", Linear{From: 400, To: 0, Over: 10 * time.Second}, 10 * time.Second},
	{"ramp-from-zero", Linear{From: 0, To: 200, Over: 10 * time.Second}, 10 * time.Second},
	{"ramp-flat", Linear{From: 50, To: 50, Over: 10 * time.Second}, 10 * time.Second},
	{"step", Step{Levels: []float64{100, 0, 300, 50}, Every: 5 * time.Second}, 20 * time.Second},
	{"step-last-holds", Step{Levels: []float64{20, 80}, Every: 3 * time.Second}, 12 * time.Second},
	{"sine", Sine{Mean: 300, Amplitude: 200, Period: 8 * time.Second}, 20 * time.Second},
	{"sine-touching-zero", Sine{Mean: 100, Amplitude: 100, Period: 5 * time.Second}, 15 * time.Second},
	{"burst", Burst{Base: 50, Peak: 1000, Every: 5 * time.Second, For: time.Second}, 22 * time.Second},
	{"burst-silent-base", Burst{Base: 0, Peak: 200, Every: 4 * time.Second, For: 500 * time.Millisecond}, 12 * time.Second},
}

// TestHitsIsIntegralOfRate checks each shape's closed-form Hits against a
// numerical integral of its Rate.
func TestHitsIsIntegralOfRate(t *testing.T) {
	t.Parallel()
	for _, tc := range shapeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const step = 100 * time.Microsecond
			var sum float64
			for x := time.Duration(0); x < tc.dur; x += step {
				sum += tc.shape.Rate(x+step/2) * step.Seconds()
				if x%time.Second == 0 {
					if got := tc.shape.Hits(x); math.Abs(got-sum+tc.shape.Rate(x+step/2)*step.Seconds()) > 0.05+1e-4*sum {
						t.Fatalf("Hits(%s) = %.3f, integral of Rate = %.3f", x, got, sum)
					}
				}
			}
			if got := tc.shape.Hits(tc.dur); math.Abs(got-sum) > 0.05+1e-4*sum {
				t.Fatalf("Hits(%s) = %.3f, integral of Rate = %.3f", tc.dur, got, sum)
			}
		})
	}
}

// TestInvert checks that the intended time of every expected count lands
// where Hits reaches it.
func TestInvert(t *testing.T) {
	t.Parallel()
	for _, tc := range shapeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			total := tc.shape.Hits(tc.dur)
			prev := time.Duration(0)
			for h := 0.5; h < total; h += total / 997 {
				at := seconds(invert(tc.shape, h, tc.dur, 0, 0))
				if at < prev {
					t.Fatalf("invert(%g) = %s, before invert of a smaller count (%s)", h, at, prev)
				}
				prev = at
				// One nanosecond either side must bracket h.
				if lo, hi := tc.shape.Hits(at-time.Nanosecond), tc.shape.Hits(at+time.Nanosecond); lo > h+1e-6 || hi < h-1e-6 {
					t.Fatalf("invert(%g) = %s, but Hits there spans [%g, %g]", h, at, lo, hi)
				}
			}
		})
	}
}

// TestWindowCounts walks the uniform schedule of each shape and compares
// the sends in each window with the integral of the rate over it.
func TestWindowCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range shapeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(1, Phase{Name: tc.name, Duration: tc.dur, Shape: tc.shape})
			if err != nil {
				t.Fatal(err)
			}
			const window = 250 * time.Millisecond
			counts := make([]int, int(tc.dur/window)+1)
			s := NewSchedule(p)
			var last time.Duration
			for at, ok := s.Next(); ok; at, ok = s.Next() {
				if at < last || at >= tc.dur {
					t.Fatalf("send %d at %s: out of order or past the end (%s)", s.Sent()-1, at, tc.dur)
				}
				last = at
				counts[at/window]++
			}
			total := tc.shape.Hits(tc.dur)
			if want := uint64(math.Round(total)); s.Sent() != want {
				t.Errorf("sent %d, want round(%g) = %d", s.Sent(), total, want)
			}
			for w, got := range counts {
				a, b := time.Duration(w)*window, min(time.Duration(w+1)*window, tc.dur)
				want := tc.shape.Hits(b) - tc.shape.Hits(a)
				// Each window boundary can split one send: ±1.
				if math.Abs(float64(got)-want) > 1 {
					t.Errorf("window [%s, %s): %d sends, integral says %.2f", a, b, got, want)
				}
			}
		})
	}
}

// TestPoissonWindowCounts checks Poisson arrivals against the integral
// within a statistical tolerance (5 standard deviations).
func TestPoissonWindowCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range shapeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(7, Phase{Duration: tc.dur, Shape: tc.shape, Arrivals: Poisson})
			if err != nil {
				t.Fatal(err)
			}
			const window = 2 * time.Second
			counts := make([]int, int(tc.dur/window)+1)
			s := NewSchedule(p)
			for at, ok := s.Next(); ok; at, ok = s.Next() {
				counts[at/window]++
			}
			check := func(what string, got int, want float64) {
				if tol := 5*math.Sqrt(want) + 3; math.Abs(float64(got)-want) > tol {
					t.Errorf("%s: %d sends, integral says %.1f (tolerance %.1f)", what, got, want, tol)
				}
			}
			check("whole phase", int(s.Sent()), tc.shape.Hits(tc.dur))
			for w, got := range counts {
				a, b := time.Duration(w)*window, min(time.Duration(w+1)*window, tc.dur)
				check(a.String()+"–"+b.String(), got, tc.shape.Hits(b)-tc.shape.Hits(a))
			}
		})
	}
}

func TestPhasesChainAbsolutely(t *testing.T) {
	t.Parallel()
	p, err := New(0,
		Phase{Name: "warm", Duration: 10 * time.Second, Shape: Constant{PerSecond: 50}},
		Phase{Name: "quiet", Duration: 5 * time.Second, Shape: Constant{PerSecond: 0}},
		Phase{Name: "ramp", Duration: 10 * time.Second, Shape: Linear{From: 0, To: 100, Over: 10 * time.Second}},
	)
	if err != nil {
		t.Fatal(err)
	}
	perPhase := make([]int, p.Len())
	s := NewSchedule(p)
	for at, ok := s.Next(); ok; at, ok = s.Next() {
		i := p.Index(at)
		if at < p.Start(i) || at >= p.Start(i)+p.Phase(i).Duration {
			t.Fatalf("send at %s attributed to phase %d", at, i)
		}
		perPhase[i]++
	}
	want := []int{500, 0, 500}
	for i := range want {
		if perPhase[i] != want[i] {
			t.Errorf("phase %s: %d sends, want %d", p.Phase(i).Name, perPhase[i], want[i])
		}
		if got := p.Expected(i); math.Abs(got-float64(want[i])) > 1e-9 {
			t.Errorf("Expected(%d) = %g, want %d", i, got, want[i])
		}
	}
	if got := p.Hits(p.Duration()); got != 1000 {
		t.Errorf("Hits(end) = %g, want 1000", got)
	}
	if got := p.Rate(12 * time.Second); got != 0 {
		t.Errorf("Rate in the quiet phase = %g", got)
	}
	if got := p.Rate(20 * time.Second); math.Abs(got-50) > 1e-9 {
		t.Errorf("Rate mid-ramp = %g, want 50", got)
	}
	// Send 500 is the first of the ramp: it must not fall in the quiet phase.
	if at, _ := p.Intended(500); at < 15*time.Second {
		t.Errorf("first ramp send at %s, inside the quiet phase", at)
	}
}

// TestCatchUp: a sender that stalled is told to send at once, without
// waiting, until it has sent what was due; then the schedule resumes.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	for _, arrivals := range []Arrivals{Uniform, Poisson} {
		t.Run(arrivals.String(), func(t *testing.T) {
			t.Parallel()
			p, err := New(3, Phase{Duration: 10 * time.Second, Shape: Constant{PerSecond: 100}, Arrivals: arrivals})
			if err != nil {
				t.Fatal(err)
			}
			const stall = 5 * time.Second
			var sent uint64
			for {
				wait, stop := p.Pace(stall, sent)
				if stop {
					t.Fatal("stopped while catching up")
				}
				if wait > 0 {
					break
				}
				sent++
			}
			due := p.Hits(stall)
			if tol := 1.0 + 5*math.Sqrt(due)*float64(arrivals); math.Abs(float64(sent)-due) > tol {
				t.Errorf("caught up with %d sends at %s, want about %.0f", sent, stall, due)
			}
			wait, _ := p.Pace(stall, sent)
			at, _ := p.Intended(sent)
			if wait != at-stall || wait > time.Second {
				t.Errorf("after catching up wait = %s, want %s (the next send's intended time)", wait, at-stall)
			}
			if arrivals == Uniform && sent != 500 {
				t.Errorf("uniform: caught up with %d sends, want exactly 500", sent)
			}
			if arrivals == Uniform && wait != 5*time.Millisecond {
				t.Errorf("uniform: next wait %s, want 5ms (send 500 is due at 5.005s)", wait)
			}
		})
	}
}

// TestNoDrift: intended times do not depend on when Pace is asked.
func TestNoDrift(t *testing.T) {
	t.Parallel()
	p, err := New(0, Phase{Duration: time.Minute, Shape: Constant{PerSecond: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for n := uint64(0); n < 180; n++ {
		want := time.Duration(math.Round((float64(n) + 0.5) / 3 * float64(time.Second)))
		for _, elapsed := range []time.Duration{0, want / 2, want, want + time.Hour} {
			wait, stop := p.Pace(elapsed, n)
			if stop {
				t.Fatalf("send %d: stop", n)
			}
			if got := elapsed + wait; elapsed < want && absDur(got-want) > time.Microsecond {
				t.Fatalf("send %d asked at %s: due at %s, want %s", n, elapsed, got, want)
			}
			if elapsed >= want && wait != 0 {
				t.Fatalf("send %d overdue at %s but wait %s", n, elapsed, wait)
			}
		}
	}
	if _, stop := p.Pace(0, 180); !stop {
		t.Error("send 180 of 180: want stop")
	}
}

func TestDeterministicPerSeed(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []time.Duration {
		p, err := New(seed,
			Phase{Duration: 5 * time.Second, Shape: Sine{Mean: 200, Amplitude: 100, Period: 2 * time.Second}, Arrivals: Poisson},
			Phase{Duration: 5 * time.Second, Shape: Constant{PerSecond: 100}},
			Phase{Duration: 5 * time.Second, Shape: Constant{PerSecond: 100}, Arrivals: Poisson},
		)
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		s := NewSchedule(p)
		for at, ok := s.Next(); ok; at, ok = s.Next() {
			out = append(out, at)
		}
		// Asking out of order must give the same answers.
		for _, n := range []int{len(out) - 1, 0, len(out) / 2, 1, len(out) / 3} {
			if at, ok := p.Intended(uint64(n)); !ok || at != out[n] {
				t.Fatalf("seed %d: Intended(%d) = %s, %v out of order; %s in order", seed, n, at, ok, out[n])
			}
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Error("same seed gave different schedules")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same Poisson schedule")
	}
}

func TestNewRejectsBadPhases(t *testing.T) {
	t.Parallel()
	cases := map[string][]Phase{
		"none":             nil,
		"zero duration":    {{Shape: Constant{PerSecond: 1}}},
		"no shape":         {{Duration: time.Second}},
		"negative rate":    {{Duration: time.Second, Shape: Constant{PerSecond: -1}}},
		"NaN rate":         {{Duration: time.Second, Shape: Constant{PerSecond: math.NaN()}}},
		"ramp zero length": {{Duration: time.Second, Shape: Linear{From: 1, To: 2}}},
		"step no levels":   {{Duration: time.Second, Shape: Step{Every: time.Second}}},
		"sine below zero":  {{Duration: time.Second, Shape: Sine{Mean: 1, Amplitude: 2, Period: time.Second}}},
		"burst for≥every":  {{Duration: time.Second, Shape: Burst{Peak: 2, Every: time.Second, For: time.Second}}},
		"bad arrivals":     {{Duration: time.Second, Shape: Constant{PerSecond: 1}, Arrivals: 9}},
	}
	for name, phases := range cases {
		if _, err := New(0, phases...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestSleepUntil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now()
	late, err := SleepUntil(ctx, start, 20*time.Millisecond)
	if err != nil || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("returned early: %v after %s", err, time.Since(start))
	}
	if late > 500*time.Millisecond {
		t.Errorf("late %s on an idle machine", late)
	}
	// An intended time long past: no sleep, lateness reported.
	late, err = SleepUntil(ctx, start.Add(-time.Second), 0)
	if err != nil || late < time.Second {
		t.Errorf("overdue send: late %s, err %v; want ≥ 1s", late, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := SleepUntil(cctx, time.Now(), time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func benchmarkPace(b *testing.B, ph Phase) {
	p, err := New(1, ph)
	if err != nil {
		b.Fatal(err)
	}
	var n uint64
	b.ReportAllocs()
	for b.Loop() {
		if _, stop := p.Pace(0, n); stop {
			n = 0
			continue
		}
		n++
	}
}

func BenchmarkPace(b *testing.B) {
	long := time.Hour
	b.Run("constant", func(b *testing.B) { benchmarkPace(b, Phase{Duration: long, Shape: Constant{PerSecond: 1000}}) })
	b.Run("ramp", func(b *testing.B) {
		benchmarkPace(b, Phase{Duration: long, Shape: Linear{From: 10, To: 1000, Over: long}})
	})
	b.Run("sine", func(b *testing.B) {
		benchmarkPace(b, Phase{Duration: long, Shape: Sine{Mean: 500, Amplitude: 300, Period: time.Minute}})
	})
	b.Run("burst", func(b *testing.B) {
		benchmarkPace(b, Phase{Duration: long, Shape: Burst{Base: 50, Peak: 1000, Every: 20 * time.Second, For: 2 * time.Second}})
	})
	b.Run("poisson", func(b *testing.B) {
		benchmarkPace(b, Phase{Duration: long, Shape: Constant{PerSecond: 1000}, Arrivals: Poisson})
	})
}

// TestSteadyIsAnEndlessConstantPhase: manual load's pacer gives the sends
// a Constant phase would, catches up when the sender is late, and has no
// sends at a rate that is not above zero.
func TestSteadyIsAnEndlessConstantPhase(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.7, 4, 250, 20000} {
		phase, err := New(1, Phase{Name: "c", Duration: time.Hour, Shape: Constant{PerSecond: rate}})
		if err != nil {
			t.Fatal(err)
		}
		steady, want := NewSchedule(Steady{PerSecond: rate}), NewSchedule(phase)
		for n := range 500 {
			got, ok := steady.Next()
			exp, _ := want.Next()
			if !ok || got != exp {
				t.Fatalf("rate %g send %d: Steady %v (%v), Constant phase %v", rate, n, got, ok, exp)
			}
		}
	}
	s := Steady{PerSecond: 4} // sends at 125ms, 375ms, 625ms, …
	if wait, stop := s.Pace(100*time.Millisecond, 0); stop || wait != 25*time.Millisecond {
		t.Errorf("Pace(100ms, 0) = %v, %v; want 25ms, false", wait, stop)
	}
	if wait, stop := s.Pace(time.Second, 1); stop || wait != 0 {
		t.Errorf("Pace(1s, 1) = %v, %v; want 0 (overdue: send now), false", wait, stop)
	}
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, stop := (Steady{PerSecond: r}).Pace(0, 0); !stop {
			t.Errorf("Steady{%g} has a send", r)
		}
	}
	if _, stop := (Steady{PerSecond: 1e-6}).Pace(0, math.MaxUint64/2); !stop {
		t.Error("a send beyond what a Duration holds was scheduled")
	}
}
