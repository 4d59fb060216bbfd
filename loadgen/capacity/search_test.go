package capacity

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeSystem passes every rate up to knee; each probe takes probe of fake
// time.
type fakeSystem struct {
	knee  float64
	probe time.Duration
	now   time.Time
	rates []float64
}

func (f *fakeSystem) clock() time.Time { return f.now }

func (f *fakeSystem) run(ctx context.Context, rate float64) (Probe, error) {
	f.now = f.now.Add(f.probe)
	f.rates = append(f.rates, rate)
	p := Probe{Rate: rate, Pass: rate <= f.knee}
	if !p.Pass {
		p.Reasons = []string{"over the knee"}
	}
	return p, nil
}

func TestSearchFindsTheKneeWithinPrecision(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		knee, start, factor, p float64
	}{
		{"default settings", 1234, 100, 2, 0.05},
		{"knee just above start", 101, 100, 2, 0.05},
		{"fine precision", 777, 10, 3, 0.01},
		{"fractional rates", 3.7, 0.5, 2, 0.05},
		{"knee exactly on a ramp step", 800, 100, 2, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSystem{knee: tc.knee, probe: 20 * time.Second, now: time.Unix(0, 0)}
			s := Search{Start: tc.start, Factor: tc.factor, Precision: tc.p, MaxTime: time.Hour, Now: f.clock}
			res, err := s.Run(context.Background(), f.run)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Found || res.Stop != StopPrecision {
				t.Fatalf("found %v stop %q, want a knee by precision; probes %v", res.Found, res.Stop, f.rates)
			}
			if res.Knee > tc.knee {
				t.Errorf("knee %g above the true knee %g", res.Knee, tc.knee)
			}
			// The true knee lies in [Knee, Fail), which is within precision.
			if res.Fail <= tc.knee || res.Fail-res.Knee > tc.p*res.Knee {
				t.Errorf("knee %g, first fail %g: true knee %g not bracketed within %g", res.Knee, res.Fail, tc.knee, tc.p)
			}
			if (tc.knee-res.Knee)/tc.knee > tc.p {
				t.Errorf("knee %g is more than %g below the true %g", res.Knee, tc.p, tc.knee)
			}
			if len(res.Probes) != len(f.rates) {
				t.Errorf("%d probes recorded, %d run", len(res.Probes), len(f.rates))
			}
			// Ramp probes grow by the factor until the first failure.
			for i := 1; i < len(res.Probes) && res.Probes[i].Step == StepRamp; i++ {
				if got := res.Probes[i].Rate / res.Probes[i-1].Rate; got < tc.factor*0.999 || got > tc.factor*1.001 {
					t.Errorf("ramp step %d: ×%g, want ×%g", i, got, tc.factor)
				}
			}
		})
	}
}

func TestSearchRespectsMaxTime(t *testing.T) {
	t.Parallel()
	f := &fakeSystem{knee: 1e5, probe: 20 * time.Second, now: time.Unix(0, 0)}
	s := Search{Start: 1, Factor: 2, Precision: 0.05, MaxTime: 70 * time.Second, Now: f.clock}
	res, err := s.Run(context.Background(), f.run)
	if err != nil {
		t.Fatal(err)
	}
	// 20 s probes in 70 s: three fit, a fourth would end at 80 s.
	if len(f.rates) != 3 || res.Stop != StopMaxTime {
		t.Fatalf("%d probes (%v), stop %q; want 3 and max-time", len(f.rates), f.rates, res.Stop)
	}
	if res.Elapsed > s.MaxTime {
		t.Errorf("elapsed %v beyond max time %v", res.Elapsed, s.MaxTime)
	}
	if !res.Found || res.Knee != 4 {
		t.Errorf("knee %g found %v, want the last pass 4", res.Knee, res.Found)
	}
}

func TestSearchStartRateFails(t *testing.T) {
	t.Parallel()
	f := &fakeSystem{knee: 50, probe: time.Second, now: time.Unix(0, 0)}
	res, err := Search{Start: 100, Now: f.clock}.Run(context.Background(), f.run)
	if err != nil {
		t.Fatal(err)
	}
	if res.Found || res.Stop != StopStartFailed || len(f.rates) != 1 || res.Fail != 100 {
		t.Fatalf("found %v stop %q probes %v fail %g; want no knee after one failed probe", res.Found, res.Stop, f.rates, res.Fail)
	}
	rep := NewReport(time.Unix(0, 0), Search{Start: 100}, Criteria{}, time.Second, res)
	if got := rep.KneeLine(); got != "knee: not found — even the start rate 100/s failed; try a lower --start-rate" {
		t.Errorf("knee line %q", got)
	}
}

func TestSearchStopsAtMaxRate(t *testing.T) {
	t.Parallel()
	f := &fakeSystem{knee: 1e9, probe: time.Second, now: time.Unix(0, 0)}
	res, err := Search{Start: 100, Factor: 10, MaxRate: 5000, Now: f.clock}.Run(context.Background(), f.run)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{100, 1000, 5000}
	if res.Stop != StopMaxRate || res.Knee != 5000 || len(f.rates) != len(want) {
		t.Fatalf("stop %q knee %g probes %v; want max-rate at 5000 after %v", res.Stop, res.Knee, f.rates, want)
	}
}

func TestSearchInterruptedAndErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := Search{Start: 10}.Run(ctx, func(ctx context.Context, rate float64) (Probe, error) {
		n++
		cancel() // Ctrl+C during the first probe
		return Probe{Pass: true, Interrupted: true}, nil
	})
	if err != nil || n != 1 || res.Stop != StopInterrupted || res.Found {
		t.Fatalf("err %v probes %d stop %q found %v; want one interrupted probe and no knee", err, n, res.Stop, res.Found)
	}

	boom := errors.New("broker gone")
	res, err = Search{Start: 10}.Run(context.Background(), func(ctx context.Context, rate float64) (Probe, error) {
		if rate > 10 {
			return Probe{}, boom
		}
		return Probe{Pass: true}, nil
	})
	if !errors.Is(err, boom) || !res.Found || res.Knee != 10 {
		t.Fatalf("err %v knee %g found %v; want the probe's error and the knee so far", err, res.Knee, res.Found)
	}
}

func TestSearchValidate(t *testing.T) {
	t.Parallel()
	err := Search{Start: -1, Factor: 1, Precision: 2, MaxTime: -time.Second}.Validate()
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"start rate -1/s", "factor 1", "precision 2", "max time -1s"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := (Search{}).Validate(); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}
