package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCapacityUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string // all in stderr
	}{
		{"unknown metric", []string{"--slo", "e2e_p98<500ms"}, []string{`bad SLO "e2e_p98<500ms"`, "valid metrics are e2e_{p50", `did you mean "e2e_p90"`}},
		{"no operator", []string{"--slo", "e2e_p99=500ms"}, []string{"write METRIC<VALUE"}},
		{"latency without a unit", []string{"--slo", "e2e_p99<500"}, []string{`"500" is not a duration`}},
		{"every problem at once", []string{"--slo", "lost_orders<0", "--slo", "error_rate<2", "--start-rate", "5", "--factor", "1", "--report", "x.pdf"},
			[]string{"never below 0", "between 0 and 1", "5/s, 5/m or 5/h", "factor 1", "use .json, .md or .txt"}},
		{"probe too short", []string{"--probe", "100ms"}, []string{"--probe 100ms: must be 1s or more"}},
		{"bad driver", []string{"--driver", "grpc"}, []string{"valid are http, publish"}},
		{"unknown scenario", []string{"--scenario", "no-such-scenario"}, []string{"no-such-scenario"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// An unreachable broker: a usage error must be found before it is dialled.
			args := append([]string{"capacity", "--broker", "rabbitmq", "--amqp", "amqp://guest:guest@127.0.0.1:1/"}, tt.args...)
			code, _, stderr := cli(t, nil, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

func TestCapacityUnreachableBrokerExit3(t *testing.T) {
	t.Parallel()
	code, _, stderr := cli(t, nil, "capacity", "--slo", "e2e_p99<500ms", "--amqp", "amqp://guest:guest@127.0.0.1:1/")
	if code != exitUnreachable || !strings.Contains(stderr, "unreachable") {
		t.Errorf("exit %d, stderr %q; want 3", code, stderr)
	}
}

// TestCapacityRunsOnTheEmbeddedBroker runs the whole command briefly: the
// exit code agrees with the knee line, and the report file is written.
func TestCapacityRunsOnTheEmbeddedBroker(t *testing.T) {
	t.Parallel()
	report := filepath.Join(t.TempDir(), "cap.json")
	code, stdout, stderr := cli(t, nil, "capacity", "--broker", "embedded", "--events", "off", "--slo", "e2e_p99<2s",
		"--probe", "1s", "--warmup", "0", "--start-rate", "20/s", "--factor", "4", "--max-time", "4s", "--report", report)
	for _, want := range []string{"probe 1 (ramp) 20/s:", "CAPACITY CURVE", "OFFERED", "SLO e2e_p99<2s", "knee: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	var rep struct {
		Version   int     `json:"version"`
		Kind      string  `json:"kind"`
		Knee      float64 `json:"knee"`
		KneeFound bool    `json:"knee_found"`
		Probes    []struct {
			Rate float64 `json:"offered_rate"`
		} `json:"probes"`
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report: %v (stderr %q)", err, stderr)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Version != 1 || rep.Kind != "capacity" || len(rep.Probes) == 0 || rep.Probes[0].Rate != 20 {
		t.Errorf("report %+v", rep)
	}
	// Exit 0 with a knee, 1 without (a loaded machine may fail even 20/s).
	switch {
	case code == exitOK && rep.KneeFound && strings.Contains(stdout, "orders/s (SLO e2e_p99<2s"):
	case code == exitFailed && !rep.KneeFound && strings.Contains(stderr, "no knee"):
	default:
		t.Errorf("exit %d, knee found %v; stdout %s\nstderr %s", code, rep.KneeFound, stdout, stderr)
	}
}
