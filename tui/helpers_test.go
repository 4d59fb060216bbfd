package tui

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
)

func TestSparkline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0}, 3, " ▁▁"},
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, "▁▂▃▄▅▆▇█"},
		{[]float64{1, 100}, 2, "▂█"}, // small but not zero still shows
		{[]float64{9, 9, 1, 2}, 2, "▅█"},
		{[]float64{math.NaN(), math.Inf(1), 1}, 3, "▁██"},
		{[]float64{1}, 0, ""},
	}
	for _, tt := range tests {
		if got := sparkline(tt.in, tt.width); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if got := ansi.StringWidth(sparkline(tt.in, tt.width)); got != tt.width {
			t.Errorf("sparkline(%v, %d) is %d wide", tt.in, tt.width, got)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	durs := map[time.Duration]string{0: "0", 850 * time.Microsecond: "850µs", 4200 * time.Microsecond: "4.2ms",
		380 * time.Millisecond: "380ms", 2100 * time.Millisecond: "2.10s", 15 * time.Second: "15.0s",
		123 * time.Second: "2m03s", 2 * time.Hour: "2h00m"}
	for d, want := range durs {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
	rates := map[float64]string{0: "0", 7.5: "7.5", 312: "312", 1234: "1.2k", 15000: "15k"}
	for r, want := range rates {
		if got := fmtRate(r); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", r, got, want)
		}
	}
	if got := fmtClock(65 * time.Second); got != "1:05" {
		t.Errorf("fmtClock = %q", got)
	}
	if got := shortID("0195944e-0000-712b-882d-00b8cacb21bb", 13); got != "…00b8cacb21bb" {
		t.Errorf("shortID = %q", got)
	}
	if got := fit("\x1b[1mhello world\x1b[m", 6); ansi.StringWidth(got) != 6 || !strings.HasPrefix(ansi.Strip(got), "hello") {
		t.Errorf("fit styled = %q", got)
	}
	if got := fitRight("ab", 4); got != "  ab" {
		t.Errorf("fitRight = %q", got)
	}
}

func TestLayoutColumnsDropsInOrder(t *testing.T) {
	t.Parallel()
	cols := []column{{title: "A", width: 10}, {title: "B", width: 10, drop: 2}, {title: "C", width: 10, drop: 1}, {title: "D", width: 5, flex: true}}
	tests := []struct {
		width int
		want  []int
	}{
		{60, []int{10, 10, 10, 27}},
		{38, []int{10, 10, 10, 5}},
		{30, []int{10, 0, 10, 8}}, // B goes first
		{16, []int{10, 0, 0, 5}},
		{5, []int{10, 0, 0, 5}}, // essentials stay; the caller clips
	}
	for _, tt := range tests {
		if got := layoutColumns(cols, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("layoutColumns(%d) = %v, want %v", tt.width, got, tt.want)
		}
	}
}

func TestPlanMainFillsBody(t *testing.T) {
	t.Parallel()
	for _, w := range []int{80, 140} {
		for b := 3; b <= 60; b++ {
			for _, af := range []bool{false, true} {
				p := planMain(w, b, af)
				used := p.queues + p.e2e + p.stages + p.activity + p.summary + p.trace
				if p.gap > 0 {
					used += 3 * p.gap
					if p.side {
						used -= p.gap
					}
				}
				if used > b {
					t.Errorf("planMain(%d, %d, %v) uses %d lines: %+v", w, b, af, used, p)
				}
				if b >= 20 && b < roomyHeight && (af && p.activity < minTrace || !af && p.trace < minTrace) {
					t.Errorf("planMain(%d, %d, %v) leaves the bottom panel too small: %+v", w, b, af, p)
				}
			}
		}
	}
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []engine.Status
		wantErr bool
	}{
		{"", nil, false},
		{"all", nil, false},
		{"failed", []engine.Status{"failed"}, false},
		{"declined, dead", []engine.Status{engine.StatusPaymentFailed, engine.StatusDeadLettered}, false},
		{"CONFIRMED open", []engine.Status{engine.StatusConfirmed, "open"}, false},
		{"lost", nil, true},
	}
	for _, tt := range tests {
		got, err := parseFilter(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseFilter(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	good := map[string]float64{"200": 200, "200/s": 200, " 1.5k ": 1500, "0": 0}
	for in, want := range good {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-1", "NaN", "inf", "2000k"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) accepted", in)
		}
	}
}

func TestStepLoadRate(t *testing.T) {
	t.Parallel()
	up := []float64{0, 10, 20, 40, 80}
	for i := 0; i+1 < len(up); i++ {
		if got := stepLoadRate(up[i], true); got != up[i+1] {
			t.Errorf("step up from %v = %v, want %v", up[i], got, up[i+1])
		}
		if got := stepLoadRate(up[i+1], false); got != up[i] {
			t.Errorf("step down from %v = %v, want %v", up[i+1], got, up[i])
		}
	}
	if got := stepLoadRate(0, false); got != 0 {
		t.Errorf("step down from 0 = %v", got)
	}
}

func TestStepRateAndSlower(t *testing.T) {
	t.Parallel()
	if got := stepRate(0.95, true); got != 1 {
		t.Errorf("stepRate(0.95, up) = %v", got)
	}
	if got := stepRate(0.02, true); got != 0.1 {
		t.Errorf("stepRate(0.02, up) = %v", got)
	}
	if got := slower(engine.Constant(0)); got.String() != "50ms" {
		t.Errorf("slower(0) = %v", got)
	}
	if got := slower(engine.Dist{Kind: engine.DistUniform, Min: time.Millisecond, Max: 3 * time.Millisecond}); got.String() != "uniform:2ms,6ms" {
		t.Errorf("slower(uniform) = %v", got)
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"200", "200/s", "1.5k", "", "nan", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err == nil && (math.IsNaN(r) || r < 0 || r > 1e6) {
			t.Fatalf("parseRate(%q) = %v without error", s, r)
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"failed", "declined, dead", "all", "x,,y"} {
		f.Add(s)
	}
	valid := map[engine.Status]bool{"failed": true, "open": true}
	for _, s := range engine.Statuses {
		valid[s] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseFilter(s)
		if err != nil {
			return
		}
		for _, st := range got {
			if !valid[st] {
				t.Fatalf("parseFilter(%q) gave unknown status %q", s, st)
			}
		}
	})
}
