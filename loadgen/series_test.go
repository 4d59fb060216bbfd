package loadgen

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

// TestSeriesStaysBoundedPastAnHour feeds more than MaxSeriesPoints
// seconds: the points never pass the bound, the interval doubles, and the
// merged rates keep the mean (the total count) while p99 keeps the peak.
func TestSeriesStaysBoundedPastAnHour(t *testing.T) {
	t.Parallel()
	sr := newSeriesRecorder([]string{"payment"}, []PhaseSpan{{Name: "long", End: 3 * 3600}})
	var tot seriesTotals
	const seconds = 2*MaxSeriesPoints + 100
	snap := engine.Snapshot{Stages: []engine.StageSnapshot{{Name: "payment"}}, Queues: []engine.QueueSnapshot{{}}}
	for i := 1; i <= seconds; i++ {
		tot.sent += 10
		tot.offered += 10
		snap.E2ERecent.P99 = time.Millisecond
		if i == 1234 {
			snap.E2ERecent.P99 = 900 * time.Millisecond
		}
		snap.Stages[0].Queue.Ready = i % 7
		sr.sample(time.Duration(i)*time.Second, tot, 0, 0, snap)
		if n := len(sr.s.Points); n > MaxSeriesPoints {
			t.Fatalf("after %d s the series holds %d points, bound %d", i, n, MaxSeriesPoints)
		}
	}
	s := sr.series()
	if s.IntervalMs != 4000 {
		t.Errorf("interval %v ms after %d s, want 4000", s.IntervalMs, seconds)
	}
	var sent, peak float64
	for _, p := range s.Points {
		sent += p.Sent * s.IntervalMs / 1000
		peak = math.Max(peak, p.E2EP99)
		if p.Stages[0].Ready > 6 {
			t.Fatalf("merged ready %d, never above 6", p.Stages[0].Ready)
		}
	}
	covered := float64(len(s.Points)) * s.IntervalMs / 1000
	if math.Abs(sent-10*covered) > 1e-6 {
		t.Errorf("merged points hold %v sends over %v s, want %v", sent, covered, 10*covered)
	}
	if peak != 900 {
		t.Errorf("the 900 ms p99 spike became %v ms after merging", peak)
	}
	if last := s.Points[len(s.Points)-1].T; last > seconds || last < seconds-8 {
		t.Errorf("last point at %v s of %d", last, seconds)
	}
}

// TestSeriesRatesFromCounters checks one point's arithmetic.
func TestSeriesRatesFromCounters(t *testing.T) {
	t.Parallel()
	sr := newSeriesRecorder(nil, nil)
	sr.sample(2*time.Second, seriesTotals{offered: 200, sent: 190, accepted: 180, completed: 100, shed: 4}, 30*time.Millisecond, 12, engine.Snapshot{})
	sr.sample(3*time.Second, seriesTotals{offered: 300, sent: 290, accepted: 270, completed: 200, shed: 4}, 0, 3, engine.Snapshot{})
	s := sr.series()
	want := []SeriesPoint{
		{T: 2, Offered: 100, Sent: 95, Accepted: 90, Completed: 50, Shed: 2, LatenessMax: 30, InFlight: 12},
		{T: 3, Offered: 100, Sent: 100, Accepted: 90, Completed: 100, Shed: 0, LatenessMax: 0, InFlight: 3},
	}
	if len(s.Points) != 2 {
		t.Fatalf("%d points: %+v", len(s.Points), s.Points)
	}
	for i, w := range want {
		if g := s.Points[i]; g.T != w.T || g.Offered != w.Offered || g.Sent != w.Sent || g.Accepted != w.Accepted ||
			g.Completed != w.Completed || g.Shed != w.Shed || g.LatenessMax != w.LatenessMax || g.InFlight != w.InFlight {
			t.Errorf("point %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestSparklineBucketsKeepTheSpike(t *testing.T) {
	t.Parallel()
	vals := make([]float64, 600)
	vals[333] = 50
	got := sparkline(vals, 60, 50)
	if n := len([]rune(got)); n != 60 {
		t.Fatalf("width %d, want 60: %q", n, got)
	}
	if strings.Count(got, "█") != 1 || strings.Count(got, "▁") != 59 {
		t.Errorf("sparkline %q: want one full bar among 59 empty ones", got)
	}
}

// TestRunRecordsSeries runs a short scenario with an action on the real
// broker: the report has a point a second with the scenario's rates, the
// phases, the action as a marker, and charts in the text report.
func TestRunRecordsSeries(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: series
seed: 5
phases:
  - {name: slow, duration: 2s, rate: 50/s}
  - {name: fast, duration: 2s, rate: 150/s}
actions:
  - {at: 1s, scale: {stage: email, workers: 3}}
`)
	e := startEngine(t, sc)
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}})
	s := rep.Series
	if s == nil {
		t.Fatal("no series in the report")
	}
	// About one point a second; a starved machine may sample less often.
	if len(s.Points) < 1 || len(s.Points) > 5 || s.IntervalMs != 1000 {
		t.Fatalf("%d points of %v ms for a 4 s run: %+v", len(s.Points), s.IntervalMs, s.Points)
	}
	if len(s.Phases) != 2 || s.Phases[1].Name != "fast" || s.Phases[1].Start != 2 || s.Phases[1].End != 4 {
		t.Errorf("phases %+v", s.Phases)
	}
	if len(s.Markers) != 1 || s.Markers[0].Kind != MarkerAction || !strings.Contains(s.Markers[0].Text, "email scaled to 3") || s.Markers[0].T < 1 {
		t.Errorf("markers %+v", s.Markers)
	}
	// Rates × intervals add up to the counts: what the schedule offered
	// by the last point (50/s, then 150/s from 2 s), and no more sends
	// than the run made.
	var offered, sent, prev float64
	for _, p := range s.Points {
		offered += p.Offered * (p.T - prev)
		sent += p.Sent * (p.T - prev)
		prev = p.T
		if len(p.Stages) != len(s.Stages) || len(s.Stages) != 3 {
			t.Fatalf("point %+v for stages %v", p, s.Stages)
		}
	}
	want := 50 * min(prev, 2)
	if prev > 2 {
		want += 150 * (min(prev, 4) - 2)
	}
	if math.Abs(offered-want) > 1 || sent > float64(rep.Sent)+1e-6 {
		t.Errorf("points add up to %.1f offered (want %.1f by %.2f s) and %.1f sent (the run sent %d)", offered, want, prev, sent, rep.Sent)
	}
	for _, p := range s.Points {
		if p.T > s.Markers[0].T+1.5 && p.Stages[2].Workers != 3 {
			t.Errorf("email workers %d at %.1f s, scaled to 3 at %.1f s", p.Stages[2].Workers, p.T, s.Markers[0].T)
		}
	}
	if txt := rep.Text(); !strings.Contains(txt, "OVER TIME") || !strings.Contains(txt, "offered/s") || !strings.Contains(txt, "payment ready") {
		t.Errorf("text report without charts:\n%s", txt)
	}
	if md := rep.Markdown(); !strings.Contains(md, "## Over time\n\n```\n") {
		t.Errorf("markdown report without charts:\n%s", md)
	}
	if rep.ScenarioYAML == "" || !strings.Contains(rep.ScenarioYAML, "name: series") {
		t.Errorf("scenario_yaml %q", rep.ScenarioYAML)
	}
	var back Report
	data, _ := json.Marshal(rep)
	if err := json.Unmarshal(data, &back); err != nil || back.Series == nil || len(back.Series.Points) != len(s.Points) {
		t.Fatalf("series did not round-trip: %v", err)
	}
}

// TestReplayRecordedKeepsTheScenario: a replay re-applies the recorded
// scenario, its actions' times scaled by the speed, the original intact.
func TestReplayRecordedKeepsTheScenario(t *testing.T) {
	t.Parallel()
	orig := parse(t, `
name: rec
seed: 9
catalog: {products: 300, stock: 5}
stages: {payment: {workers: 3, decline_rate: 0.3}}
phases:
  - {name: a, duration: 2s, rate: 10/s}
  - {name: b, duration: 2s, rate: 20/s}
actions:
  - {at: 1s, fault: {stage: payment, decline_rate: 1, for: 2s}}
thresholds:
  - {metric: e2e_p99, max: 500ms}
`)
	arrivals := []Arrival{{At: 100 * time.Millisecond}, {At: 3 * time.Second}}
	same, _, err := ReplayRecorded(orig, arrivals, 1)
	if err != nil {
		t.Fatal(err)
	}
	if same.Seed != 9 || same.Catalog.Products != 300 || *same.Stages.Payment.Workers != 3 || len(same.Phases) != 2 ||
		len(same.Thresholds) != 2 || same.Actions[0].At.Std() != time.Second || !strings.HasPrefix(same.Name, "replay of rec") {
		t.Errorf("1x replay lost part of the scenario: %+v", same)
	}
	fast, out, err := ReplayRecorded(orig, arrivals, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast.Phases) != 1 || fast.Actions[0].At.Std() != 500*time.Millisecond || fast.Actions[0].Fault.For.Std() != time.Second || out[1].At != 1500*time.Millisecond {
		t.Errorf("2x replay: phases %d, action at %v for %v, last arrival %v", len(fast.Phases), fast.Actions[0].At, fast.Actions[0].Fault.For, out[1].At)
	}
	if orig.Actions[0].Fault.For.Std() != 2*time.Second || orig.Actions[0].At.Std() != time.Second {
		t.Errorf("the original scenario changed: %+v", orig.Actions[0])
	}
	if err := fast.Validate(); err != nil {
		t.Errorf("the 2x replay scenario does not validate: %v", err)
	}
}
