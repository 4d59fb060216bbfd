package tui

import "strings"

// column is one column of a panel's table. Columns that do not fit the
// panel's width are dropped, highest drop first, so a narrow terminal
// keeps the figures that matter.
type column struct {
	title string
	width int
	right bool
	// drop orders which columns go first when space runs out: 0 never
	// goes, higher numbers go earlier.
	drop int
	// flex columns share whatever width is left after the others.
	flex bool
}

// colGap is the space between columns.
const colGap = 1

// layoutColumns picks the columns that fit in width and returns, for each
// column, its rendered width (0 for a dropped column).
func layoutColumns(cols []column, width int) []int {
	ws := make([]int, len(cols))
	used := func() int {
		n, t := 0, 0
		for _, w := range ws {
			if w > 0 {
				t += w
				n++
			}
		}
		if n > 1 {
			t += (n - 1) * colGap
		}
		return t
	}
	for i, c := range cols {
		ws[i] = c.width
	}
	for used() > width {
		// drop the column with the highest drop rank, rightmost first
		best := -1
		for i, c := range cols {
			if ws[i] > 0 && c.drop > 0 && (best < 0 || c.drop >= cols[best].drop) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		ws[best] = 0
	}
	// Share what is left among flex columns.
	spare := width - used()
	var flex []int
	for i, c := range cols {
		if c.flex && ws[i] > 0 {
			flex = append(flex, i)
		}
	}
	for k, i := range flex {
		if spare <= 0 {
			break
		}
		add := spare / (len(flex) - k)
		ws[i] += add
		spare -= add
	}
	return ws
}

// row renders cells in their columns; dropped columns are skipped.
// Cells may carry styles: widths are measured ANSI-aware.
func row(cols []column, ws []int, cells []string) string {
	var b strings.Builder
	first := true
	for i, c := range cols {
		if ws[i] <= 0 {
			continue
		}
		if !first {
			b.WriteString(strings.Repeat(" ", colGap))
		}
		first = false
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		if c.right {
			b.WriteString(fitRight(cell, ws[i]))
		} else {
			b.WriteString(fit(cell, ws[i]))
		}
	}
	return b.String()
}

// headerRow renders the column titles.
func headerRow(cols []column, ws []int) string {
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	return row(cols, ws, titles)
}
