package pace

import (
	"math"
	"reflect"
	"testing"
	"time"

	"oms-sim/loadgen/scenario"
)

func TestFromScenario(t *testing.T) {
	t.Parallel()
	src := `seed: 99
phases:
  - {name: c, duration: 10s, rate: 3000/m}
  - {name: r, duration: 20s, rate: {from: 10/s, to: 30/s}}
  - {name: s, duration: 30s, rate: {steps: [10/s, 20/s, 40/s]}}
  - {name: s2, duration: 30s, rate: {steps: [10/s, 20/s], every: 10s}}
  - {name: w, duration: 20s, rate: {sine: {mean: 20/s, amplitude: 10/s, period: 10s}}, arrivals: poisson}
  - {name: b, duration: 30s, rate: {burst: {base: 5/s, peak: 100/s, every: 10s, for: 1s}}}
`
	s, err := scenario.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromScenario(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []Phase{
		{Name: "c", Duration: 10 * time.Second, Shape: Constant{PerSecond: 50}},
		{Name: "r", Duration: 20 * time.Second, Shape: Linear{From: 10, To: 30, Over: 20 * time.Second}},
		{Name: "s", Duration: 30 * time.Second, Shape: Step{Levels: []float64{10, 20, 40}, Every: 10 * time.Second}},
		{Name: "s2", Duration: 30 * time.Second, Shape: Step{Levels: []float64{10, 20}, Every: 10 * time.Second}},
		{Name: "w", Duration: 20 * time.Second, Shape: Sine{Mean: 20, Amplitude: 10, Period: 10 * time.Second}, Arrivals: Poisson},
		{Name: "b", Duration: 30 * time.Second, Shape: Burst{Base: 5, Peak: 100, Every: 10 * time.Second, For: time.Second}},
	}
	if p.Len() != len(want) {
		t.Fatalf("%d phases", p.Len())
	}
	for i, w := range want {
		if got := p.Phase(i); !reflect.DeepEqual(got, w) {
			t.Errorf("phase %d:\n got  %+v\n want %+v", i, got, w)
		}
	}
	// Expected sends: 500 + 400 + 700 + (100+200+200) + 400 + (150 + 2·95).
	expected := []float64{500, 400, 700, 500, 400, 340}
	for i, w := range expected {
		if got := p.Expected(i); math.Abs(got-w) > 1e-6 {
			t.Errorf("Expected(%d) = %g, want %g", i, got, w)
		}
	}
	if p.Duration() != s.TotalDuration() {
		t.Errorf("duration %s, scenario %s", p.Duration(), s.TotalDuration())
	}
	// The same scenario gives the same schedule, Poisson phase included.
	q, _ := FromScenario(s)
	a, b := NewSchedule(p), NewSchedule(q)
	for {
		x, okA := a.Next()
		y, okB := b.Next()
		if okA != okB || x != y {
			t.Fatalf("schedules differ at send %d: %s/%v vs %s/%v", a.Sent(), x, okA, y, okB)
		}
		if !okA {
			break
		}
	}
}

// FuzzScenarioSchedule: whatever the scenario parser accepts, the pacer
// must accept too, and its schedule must be ordered and inside the run.
func FuzzScenarioSchedule(f *testing.F) {
	f.Add([]byte("phases: [{duration: 2s, rate: 10/s}]"))
	f.Add([]byte("seed: 3\nphases: [{duration: 3s, rate: {sine: {mean: 5/s, amplitude: 5/s, period: 1s}}, arrivals: poisson}]"))
	f.Add([]byte("phases: [{duration: 3s, rate: {burst: {peak: 50/s, every: 1s, for: 10ms}}}, {duration: 1s, rate: {from: 0/s, to: 9/s}}]"))
	f.Add([]byte("phases: [{duration: 3s, rate: {steps: [0/s, 5/s, 0/s]}}, {duration: 1ms, rate: 1/h}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		p, err := FromScenario(s)
		if err != nil {
			t.Fatalf("valid scenario rejected by the pacer: %v", err)
		}
		sched := NewSchedule(p)
		var last time.Duration
		for range 2000 {
			at, ok := sched.Next()
			if !ok {
				break
			}
			if at < last || at >= p.Duration() {
				t.Fatalf("send %d at %s after %s (run lasts %s)", sched.Sent()-1, at, last, p.Duration())
			}
			last = at
		}
	})
}
