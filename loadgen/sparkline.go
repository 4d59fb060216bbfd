package loadgen

import (
	"fmt"
	"math"
	"strings"
)

// sparkRunes are the eight bar heights, lowest first.
var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkWidth is the text reports' chart width in cells.
const sparkWidth = 60

// sparkline draws values in width cells scaled from zero to peak: more
// values than cells are bucketed (each cell shows the highest of its
// bucket, so a spike is never averaged away), fewer are drawn one a cell.
func sparkline(values []float64, width int, peak float64) string {
	if width <= 0 || len(values) == 0 {
		return ""
	}
	cells := bucketMax(values, width)
	top := len(sparkRunes) - 1
	var b strings.Builder
	for _, v := range cells {
		lvl := 0
		if peak > 0 && v > 0 {
			lvl = min(max(int(math.Round(v/peak*float64(top))), 1), top) // anything above zero shows
		}
		b.WriteRune(sparkRunes[lvl])
	}
	return b.String()
}

// bucketMax shrinks values to at most n, each the highest of its bucket.
func bucketMax(values []float64, n int) []float64 {
	if len(values) <= n {
		return values
	}
	out := make([]float64, n)
	for i := range out {
		lo, hi := i*len(values)/n, (i+1)*len(values)/n
		m := values[lo]
		for _, v := range values[lo:hi] {
			m = max(m, v)
		}
		out[i] = m
	}
	return out
}

// charts renders the series as labelled sparklines: rates share one
// scale so offered and accepted compare by eye; each latency and depth
// has its own. Empty when there is no series.
func (s *Series) charts() string {
	if s == nil || len(s.Points) == 0 {
		return ""
	}
	col := func(f func(SeriesPoint) float64) []float64 {
		out := make([]float64, len(s.Points))
		for i, p := range s.Points {
			out[i] = f(p)
		}
		return out
	}
	peakOf := func(vs ...[]float64) float64 {
		m := 0.0
		for _, v := range vs {
			for _, x := range v {
				m = max(m, x)
			}
		}
		return m
	}
	type line struct {
		name string
		vals []float64
		peak float64
		unit func(float64) string
	}
	offered, sent, accepted := col(func(p SeriesPoint) float64 { return p.Offered }), col(func(p SeriesPoint) float64 { return p.Sent }), col(func(p SeriesPoint) float64 { return p.Accepted })
	completed := col(func(p SeriesPoint) float64 { return p.Completed })
	ratePeak := peakOf(offered, sent, accepted, completed)
	p50, p99 := col(func(p SeriesPoint) float64 { return p.E2EP50 }), col(func(p SeriesPoint) float64 { return p.E2EP99 })
	lines := []line{
		{"offered/s", offered, ratePeak, fmtRate},
		{"sent/s", sent, ratePeak, fmtRate},
		{"accepted/s", accepted, ratePeak, fmtRate},
		{"completed/s", completed, ratePeak, fmtRate},
		{"e2e p50", p50, peakOf(p99), FormatMs},
		{"e2e p99", p99, peakOf(p99), FormatMs},
	}
	for i, name := range s.Stages {
		ready := col(func(p SeriesPoint) float64 {
			if i < len(p.Stages) {
				return float64(p.Stages[i].Ready)
			}
			return 0
		})
		lines = append(lines, line{name + " ready", ready, peakOf(ready), func(v float64) string { return fmt.Sprintf("%.0f", v) }})
	}
	var b strings.Builder
	w := min(len(s.Points), sparkWidth)
	for _, l := range lines {
		fmt.Fprintf(&b, "  %-16s %s  peak %s\n", l.name, sparkline(l.vals, w, l.peak), l.unit(peakOf(l.vals)))
	}
	// The phases under the charts: each starts where its initial falls.
	end := s.Points[len(s.Points)-1].T
	if end > 0 && len(s.Phases) > 1 {
		axis := []rune(strings.Repeat("·", w))
		var names []string
		for i, ph := range s.Phases {
			c := min(int(ph.Start/end*float64(w)), w-1)
			axis[c] = rune('1' + i%9)
			names = append(names, fmt.Sprintf("%d %s", i+1, ph.Name))
		}
		fmt.Fprintf(&b, "  %-16s %s  %s\n", "phases", string(axis), strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, "  %-16s %d points of %s over %s", "", len(s.Points), FormatMs(s.IntervalMs), FormatMs(end*1000))
	if n := len(s.Markers); n > 0 {
		fmt.Fprintf(&b, "; %d actions fired", n)
	}
	b.WriteString("\n")
	return b.String()
}
