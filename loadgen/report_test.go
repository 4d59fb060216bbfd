package loadgen

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestThresholdResultNaNIsNull(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Report{Thresholds: []ThresholdResult{{Metric: "e2e_p99", Observed: math.NaN(), Display: "not measured"}, {Metric: "lost_orders", Observed: 2}}})
	if err != nil {
		t.Fatalf("a report with an unmeasured threshold did not encode: %v", err)
	}
	var back struct {
		Thresholds []map[string]any `json:"thresholds"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back.Thresholds[0]["observed"]; !ok || v != nil {
		t.Errorf("NaN observed encoded as %v (present %v), want null", v, ok)
	}
	if back.Thresholds[0]["observed_display"] != "not measured" || back.Thresholds[1]["observed"] != 2.0 {
		t.Errorf("other fields lost: %v", back.Thresholds)
	}
}

func TestCheckReportPaths(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		paths []string
		html  bool
		want  string // "" for no error, else part of it
	}{
		{[]string{"a.json", "a.html", "a.md", "a.TXT"}, true, ""},
		{[]string{"a.html"}, false, "unknown format \".html\": use .json, .md or .txt"},
		{[]string{"a.json", "b.json"}, true, "a.json already writes the .json report"},
		{[]string{"a.pdf", "b.csv"}, true, "a.pdf"},
	} {
		err := CheckReportPaths(c.paths, c.html)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckReportPaths(%v, %v) = %v, want %q", c.paths, c.html, err, c.want)
		}
	}
	// Every problem at once.
	if err := CheckReportPaths([]string{"a.pdf", "b.csv"}, true); !strings.Contains(err.Error(), "b.csv") {
		t.Errorf("second bad path not reported: %v", err)
	}
}

func TestWriteEveryFormat(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	dir := t.TempDir()
	for ext, want := range map[string]string{".json": `"series": {`, ".md": "## Over time", ".txt": "OVER TIME", ".html": "report-data"} {
		path := filepath.Join(dir, "r"+ext)
		if err := rep.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", ext, want)
		}
	}
}
