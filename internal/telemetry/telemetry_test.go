package telemetry

import (
	"math"
	"testing"
	"time"
)

// TestRatePer: a counter rising 100 per 250 ms is 400/s over any window
// the samples cover, and the window reaches back to the first sample at
// least that old.
func TestRatePer(t *testing.T) {
	t.Parallel()
	var r Rate
	if r.Per(time.Second) != 0 || r.Span() != 0 {
		t.Fatal("an empty Rate has a rate")
	}
	t0 := time.Unix(1000, 0)
	for i := range 100 { // more than the 64 kept
		v := int64(i) * 100
		if i >= 90 {
			v = 8900 + int64(i-89)*1000 // the last 10 samples rise 4000/s
		}
		r.Add(t0.Add(time.Duration(i)*250*time.Millisecond), v)
	}
	if got := r.Per(time.Second); math.Abs(got-4000) > 1e-9 {
		t.Errorf("Per(1s) = %g, want 4000", got)
	}
	// 10 s back: 2.5 s at 4000/s and 7.5 s at 400/s.
	if got, want := r.Per(10*time.Second), (10*1000+30*100)/10.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("Per(10s) = %g, want %g", got, want)
	}
	if got := r.Span(); got != 63*250*time.Millisecond {
		t.Errorf("Span = %v, want the 64 samples kept, 15.75s", got)
	}
}

func TestHistoryKeepsTheLast(t *testing.T) {
	t.Parallel()
	h := NewHistory(3)
	for _, v := range []float64{1, 2, 3, 4, 5} {
		h.Add(v)
	}
	got := h.Values()
	if len(got) != 3 || got[0] != 3 || got[2] != 5 {
		t.Fatalf("Values = %v, want [3 4 5]", got)
	}
	got[0] = 99
	if h.Values()[0] != 3 {
		t.Error("Values shares its slice with the History")
	}
}

// TestLatencyClampsAndSummarises: durations below 1 µs count as 1 µs and
// beyond an hour as an hour (never dropped); Reset empties the run and
// the window; Millis is the same distribution in milliseconds.
func TestLatencyClampsAndSummarises(t *testing.T) {
	t.Parallel()
	l := NewLatency()
	l.Record(0)
	l.Record(3 * time.Millisecond)
	l.Record(2 * time.Hour)
	p := l.Total()
	// HdrHistogram keeps 3 significant digits.
	if p.Count != 3 || p.P50 < 2997*time.Microsecond || p.P50 > 3003*time.Microsecond || p.Max < 59*time.Minute || p.Max > 61*time.Minute {
		t.Fatalf("Total = %+v", p)
	}
	if r := l.Recent(); r.Count != 3 {
		t.Errorf("Recent count %d, want 3", r.Count)
	}
	m := p.Millis()
	if m.Count != 3 || m.P50 != float64(p.P50)/1e6 || m.Max != float64(p.Max)/1e6 {
		t.Errorf("Millis = %+v", m)
	}
	l.Reset()
	if l.Total().Count != 0 || l.Recent().Count != 0 || l.RecentMean() != 0 {
		t.Error("Reset left values behind")
	}
	h := NewHistogram()
	Record(h, -time.Second)
	if s := Summarize(h); s.Count != 1 || s.Max != time.Microsecond {
		t.Errorf("a negative duration: %+v, want one value of 1µs", s)
	}
	if (Summarize(NewHistogram()) != Percentiles{}) {
		t.Error("an empty histogram has percentiles")
	}
}
