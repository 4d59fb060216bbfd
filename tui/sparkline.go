package tui

import (
	"math"
	"strings"
)

// sparkRunes are the eight bar heights, lowest first.
var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values as bars scaled from zero to the
// largest of them. Fewer values than width are right-aligned (the newest
// value is always the last cell); no values give blanks.
func sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := 0.0
	for _, v := range values {
		if v > peak && !math.IsInf(v, 1) {
			peak = v
		}
	}
	var b strings.Builder
	b.Grow(width * 3)
	b.WriteString(strings.Repeat(" ", width-len(values)))
	top := len(sparkRunes) - 1
	for _, v := range values {
		lvl := 0
		switch {
		case math.IsInf(v, 1):
			lvl = top
		case peak > 0 && v > 0:
			lvl = int(math.Round(v / peak * float64(top)))
			lvl = min(max(lvl, 1), top) // anything above zero shows
		}
		b.WriteRune(sparkRunes[lvl])
	}
	return b.String()
}
