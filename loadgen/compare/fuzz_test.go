package compare

import (
	"encoding/json"
	"testing"
)

// FuzzParse: any bytes give a report or an error naming the file, never a
// panic; a report that parses can be compared with itself and passes.
func FuzzParse(f *testing.F) {
	good, _ := json.Marshal(report(300, 100, 20, 0))
	f.Add("a.json", good)
	f.Add("a.json", []byte(`{"version":2,"scenario":"x","audit":{},"phases":[{"name":"p","achieved_rate":1e308}]}`))
	f.Add("a.json", []byte(`{"version":3,"scenario":"x","audit":{},"series":{"points":[{"t_s":-1}]}}`))
	f.Add("a.html", []byte(`<script id="report-data" type="application/json">{"version":3}</script>`))
	f.Add("a.json", []byte(`{"version":1e3}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		rep, err := Parse(name, data)
		if err != nil {
			if rep != nil {
				t.Fatal("a report with an error")
			}
			return
		}
		d := Compare(Side{"a", rep}, Side{"b", rep}, DefaultOptions)
		if !d.Passed {
			t.Fatalf("a report regressed against itself: %s", d.Verdict())
		}
		_ = d.Text()
		_ = d.Markdown()
		if _, err := d.HTML(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseTolerance: any string gives a share in [0, 10] or an error.
func FuzzParseTolerance(f *testing.F) {
	for _, s := range []string{"10%", "0", "1000%", "1e2", "-0", "0x10", "Inf%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTolerance(s)
		if err == nil && (v < 0 || v > 10 || v != v) {
			t.Fatalf("ParseTolerance(%q) = %v", s, v)
		}
	})
}
