package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"oms-sim/loadgen"
)

// oldestVersion is the oldest report schema compare reads: version 1
// counted late sends in a phase's achieved rate, so its rates compare
// only roughly, but every field compare uses is there.
const oldestVersion = 1

// Load reads a run report written with --report: .json, or .html (the
// JSON inside the page).
func Load(path string) (*loadgen.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a run report from data; name says where it came from in
// errors. An .html name (or a page starting like one) is read through its
// embedded JSON. Anything that is not a run report of a known version is
// an error saying what is wrong.
func Parse(name string, data []byte) (*loadgen.Report, error) {
	trimmed := bytes.TrimSpace(data)
	if strings.EqualFold(filepath.Ext(name), ".html") || bytes.HasPrefix(trimmed, []byte("<")) {
		inner, err := loadgen.ReportFromHTML(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		trimmed = bytes.TrimSpace(inner)
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: not a JSON report (want an object written by --report FILE.json)", name)
	}
	// The version first: a report from a newer oms-sim may mean other
	// things by the same fields.
	var head struct {
		Version  *int            `json:"version"`
		Scenario *string         `json:"scenario"`
		Audit    json.RawMessage `json:"audit"`
		Kind     string          `json:"kind"` // "capacity" for capacity reports
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return nil, fmt.Errorf("%s: malformed JSON: %w", name, err)
	}
	switch {
	case head.Kind == "capacity":
		return nil, fmt.Errorf("%s: a capacity report, not a run report (compare the run reports of two runs)", name)
	case head.Version == nil:
		return nil, fmt.Errorf("%s: no \"version\": not an oms-sim run report", name)
	case *head.Version < oldestVersion || *head.Version > loadgen.ReportVersion:
		return nil, fmt.Errorf("%s: report version %d; this oms-sim reads versions %d to %d", name, *head.Version, oldestVersion, loadgen.ReportVersion)
	case head.Scenario == nil || head.Audit == nil:
		return nil, fmt.Errorf("%s: no \"scenario\" or \"audit\": not an oms-sim run report", name)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(trimmed, &rep); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s: field %s: %s where a %s belongs", name, te.Field, te.Value, te.Type)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &rep, nil
}

// ParseTolerance reads a --tolerance like "10%" or "10" (percent) into a
// share (0.1); it must be 0–1000%.
func ParseTolerance(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("--tolerance %q: want a percentage like 10%%", s)
	}
	if v < 0 || v > 1000 {
		return 0, fmt.Errorf("--tolerance %q: must be 0%% to 1000%%", s)
	}
	return v / 100, nil
}
