package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"oms-sim/loadgen/pace"
)

var shipped = []string{
	"burst", "consumer-crash", "exactly-once", "max-throughput", "out-of-stock", "payment-outage",
	"ramp", "slow-email", "soak", "steady", "tour", "wave",
}

func TestShippedScenariosValidate(t *testing.T) {
	t.Parallel()
	if got := Names(); !slices.Equal(got, shipped) {
		t.Fatalf("Names() = %v, want %v", got, shipped)
	}
	for _, name := range shipped {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(name)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if s.Name != name {
				t.Errorf("name: %q, want %q (the file name)", s.Name, name)
			}
			if s.Description == "" {
				t.Error("no description")
			}
			for i, p := range s.Phases {
				if p.Description == "" {
					t.Errorf("phases[%d] (%s) has no description", i, p.Name)
				}
			}
			if len(s.Thresholds) == 0 {
				t.Error("no thresholds")
			}
			// Every shipped scenario must also build a schedule.
			p, err := pace.FromScenario(s)
			if err != nil {
				t.Fatalf("pace: %v", err)
			}
			if p.Duration() != s.TotalDuration() {
				t.Errorf("pacer lasts %s, scenario %s", p.Duration(), s.TotalDuration())
			}
			data, _, _ := Open(name)
			if !strings.HasPrefix(string(data), "# "+name+":") {
				t.Errorf("file should open with a comment naming it (# %s: ...)", name)
			}
		})
	}
}

func TestShippedDurations(t *testing.T) {
	t.Parallel()
	want := map[string][2]time.Duration{
		"steady": {50 * time.Second, 70 * time.Second},
		"tour":   {2 * time.Minute, 3 * time.Minute},
		"soak":   {30 * time.Minute, 30 * time.Minute},
	}
	for _, info := range List() {
		if strings.HasPrefix(info.Description, "invalid") {
			t.Errorf("%s: %s", info.Name, info.Description)
		}
		if r, ok := want[info.Name]; ok && (info.Duration < r[0] || info.Duration > r[1]) {
			t.Errorf("%s lasts %s, want %s–%s", info.Name, info.Duration, r[0], r[1])
		}
		if info.Duration <= 0 || info.Description == "" {
			t.Errorf("%s: incomplete info %+v", info.Name, info)
		}
	}
}

// TestOpen runs from an empty directory: in this package's own directory
// the shipped files exist on disk and would (rightly) win.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir())
	local := filepath.Join(dir, "burst.yaml")
	if err := os.WriteFile(local, []byte("phases: [{duration: 1s, rate: 1/s}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		arg, file string
		err       bool
	}{
		{"burst", "scenarios/burst.yaml", false},
		{"burst.yaml", "scenarios/burst.yaml", false},
		{"tour", "scenarios/tour.yaml", false},
		{local, local, false}, // a file on disk wins over the shipped one
		{"bursty", "", true},
		{"", "", true},
		{filepath.Join(dir, "missing.yaml"), "", true},
		{dir, "", true},
	}
	for _, tc := range cases {
		data, file, err := Open(tc.arg)
		if (err != nil) != tc.err {
			t.Errorf("Open(%q): err %v, want error %v", tc.arg, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if file != tc.file || len(data) == 0 {
			t.Errorf("Open(%q) = %d bytes from %q, want %q", tc.arg, len(data), file, tc.file)
		}
	}
}

func TestOpenUnknownListsChoices(t *testing.T) {
	_, _, err := Open("bursty")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("err %v, want ErrUnknown", err)
	}
	for _, want := range []string{`"bursty"`, `did you mean "burst"`, "steady", "tour", "wave"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
