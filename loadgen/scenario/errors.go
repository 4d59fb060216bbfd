package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a scenario file: where it is, which field, and what
// would be valid there.
type Error struct {
	File    string // file name as given to Parse; empty for a scenario built in code
	Line    int    // 1-based; 0 when the position is unknown
	Column  int    // 1-based; 0 when the position is unknown
	Field   string // field path such as phases[1].rate; empty for a syntax error
	Message string // what is wrong and what is accepted
}

// Error formats the problem as file:line:column: field: message, leaving out
// the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Column))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in one scenario, in file order. Parse and
// Validate return it as their error so that all problems are reported at once.
type Errors []*Error

// Error joins the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sort orders problems by position, keeping the discovery order for ties so
// that the output is stable.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Column, b.Column)
	})
}

// pos is a 1-based line and column in the source.
type pos struct{ line, col int }

// source remembers where each field came from, so that problems found after
// decoding still point into the file.
type source struct {
	file string
	data []byte          // the file as parsed, for Source
	pos  map[string]pos  // field path → position of its value
	bad  map[string]bool // field paths that already failed to decode

	// unknown holds mappings that had an unknown field: saying such a
	// mapping is empty would only repeat the unknown-field error.
	unknown map[string]bool
}

// locate returns the position of path, or of its nearest ancestor that has
// one (a missing field is reported where its parent mapping is).
func (s *source) locate(path string) pos {
	if s == nil {
		return pos{}
	}
	for p := path; ; p = parentPath(p) {
		if at, ok := s.pos[p]; ok {
			return at
		}
		if p == "" {
			return pos{1, 1}
		}
	}
}

// failed reports whether path or one of its ancestors already has a decode
// error, so that validation does not pile a second message on the same spot.
func (s *source) failed(path string) bool {
	if s == nil {
		return false
	}
	for p := path; ; p = parentPath(p) {
		if s.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// parentPath strips the last element of a field path: phases[1].rate →
// phases[1] → phases → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath appends a field name to a path.
func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// Suggest returns ` (did you mean "x"?)` when one choice is a near miss
// of got (a small edit distance), or "".
func Suggest(got string, choices []string) string { return suggest(got, choices) }

func suggest(got string, choices []string) string {
	best, bestDist := "", 3
	for _, c := range choices {
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		if d := editDistance(strings.ToLower(got), c); d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, capped in cost
// by only ever being called on short names.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
