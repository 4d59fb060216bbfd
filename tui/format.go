package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// fmtDur renders a latency in at most about six cells: 0, 850µs, 12.3ms,
// 1.24s, 2m03s.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// fmtClock renders elapsed time as m:ss or h:mm:ss.
func fmtClock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// fmtRate renders a per-second rate: 0, 7.5, 312, 1.2k, 15k.
func fmtRate(r float64) string {
	switch {
	case r <= 0:
		return "0"
	case r < 10:
		return fmt.Sprintf("%.1f", r)
	case r < 1000:
		return fmt.Sprintf("%.0f", r)
	case r < 10000:
		return fmt.Sprintf("%.1fk", r/1000)
	}
	return fmt.Sprintf("%.0fk", r/1000)
}

// fmtCount renders a counter exactly up to a million, then abbreviated.
func fmtCount[T ~int | ~int64](n T) string {
	switch {
	case n < 1_000_000:
		return fmt.Sprintf("%d", n)
	case n < 10_000_000:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fM", float64(n)/1e6)
}

// fmtAgo renders how long before now t was: 3s, 2m, 1h.
func fmtAgo(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

// fmtPct renders a 0..1 fraction as a whole percentage.
func fmtPct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// fit truncates s (ANSI-aware) to w cells, ending in "…" when cut, and
// pads it with spaces to exactly w cells.
func fit(s string, w int) string {
	s, pad := cut(s, w)
	return s + pad
}

// cut truncates s (ANSI-aware) to w cells, ending in "…" when cut, and
// returns it with the spaces that pad it to exactly w cells (nothing at
// all when w <= 0).
func cut(s string, w int) (string, string) {
	if w <= 0 {
		return "", ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	return s, strings.Repeat(" ", w-n)
}

// fitRight is fit, aligned right.
func fitRight(s string, w int) string {
	s, pad := cut(s, w)
	return pad + s
}

// clip truncates s to w cells without padding.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// shortID keeps the end of an order id: ids are UUIDv7, whose leading
// digits are a timestamp shared by neighbouring orders.
func shortID(id string, w int) string {
	if w <= 0 {
		return ""
	}
	r := []rune(id)
	if len(r) <= w {
		return id
	}
	if w == 1 {
		return "…"
	}
	return "…" + string(r[len(r)-w+1:])
}

// block lays lines out as exactly h lines of exactly w cells.
func block(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return strings.Join(out, "\n")
}

// sideBySide joins two blocks of equal height with a gap.
func sideBySide(left, right string, gap int) string {
	l := strings.Split(left, "\n")
	r := strings.Split(right, "\n")
	n := max(len(l), len(r))
	out := make([]string, n)
	pad := strings.Repeat(" ", gap)
	lw := 0
	for _, s := range l {
		lw = max(lw, ansi.StringWidth(s))
	}
	for i := range out {
		var a, b string
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		out[i] = fit(a, lw) + pad + b
	}
	return strings.Join(out, "\n")
}
