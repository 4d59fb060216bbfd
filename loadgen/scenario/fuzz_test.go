package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every problem it
// reports has a position in the file, and that whatever it accepts is valid.
func FuzzParse(f *testing.F) {
	shipped, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, path := range shipped {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	for _, tc := range errorCases {
		f.Add([]byte(tc.yaml))
	}
	for _, s := range []string{
		"", "~", "[]", "{}", "phases: *a", "a: &a [*a]", "<<: {phases: []}",
		"x-p: &p {duration: 1s, rate: 1/s}\nphases: [*p, *p]\n",
		"phases: [{duration: 1s, rate: {<<: {from: 1/s}, to: 2/s}}]",
		"phases:\n- duration: !!str 1s\n  rate: |\n    5/s\n",
		"? phases\n: [{duration: 1s, rate: 1/s}]\n",
		"broker: {body_bytes: 4096, persistent: false, connections: shared}\nphases: [{duration: 1s, rate: 1/s}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatal("a scenario returned with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			for i, e := range errs {
				if e.File != "fuzz.yaml" || e.Line < 1 || e.Column < 1 || e.Message == "" {
					t.Fatalf("problem without a position or message: %#v", e)
				}
				if i > 0 && (e.Line < errs[i-1].Line || e.Line == errs[i-1].Line && e.Column < errs[i-1].Column) {
					t.Fatalf("problems out of file order: %v then %v", errs[i-1], e)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate rejects: %v", err)
		}
		if s.TotalDuration() <= 0 || len(s.Phases) == 0 {
			t.Fatalf("accepted a scenario with no load: %+v", s)
		}
	})
}
