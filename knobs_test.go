package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"oms-sim/engine"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/broker/embedded"
	"oms-sim/loadgen/scenario"
)

// TestBrokerKnobsFlagsWinOverScenario: --body-bytes, --persistent and
// --connections override the scenario's broker: section only when the
// user typed them; otherwise the scenario's values hold, and without a
// scenario the flags' defaults do.
func TestBrokerKnobsFlagsWinOverScenario(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("knobs.yaml", []byte("broker: {body_bytes: 4096, persistent: false, connections: per-worker}\nphases: [{duration: 1s, rate: 1/s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := scenario.Parse("plain.yaml", []byte("phases: [{duration: 1s, rate: 1/s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		sc    *scenario.Scenario
		bytes int
		trans bool
		conns string
	}{
		{"no scenario, defaults", nil, nil, 0, false, engine.ConnPerStage},
		{"no scenario, flags", []string{"--body-bytes", "512", "--persistent=false", "--connections", "shared"}, nil, 512, true, engine.ConnShared},
		{"scenario only", nil, sc, 4096, true, engine.ConnPerWorker},
		{"scenario without broker:, defaults", nil, plain, 0, false, engine.ConnPerStage},
		{"scenario without broker:, flags", []string{"--body-bytes", "64", "--persistent=false", "--connections", "per-worker"}, plain, 64, true, engine.ConnPerWorker},
		{"flags win", []string{"--body-bytes", "0", "--persistent", "--connections", "per-stage"}, sc, 0, false, engine.ConnPerStage},
		{"one flag wins, the rest from the scenario", []string{"--connections", "shared"}, sc, 4096, true, engine.ConnShared},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o runOptions
			cmd := &cobra.Command{}
			o.register(cmd)
			if err := cmd.Flags().Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o.changed = cmd.Flags().Changed
			cfg, err := o.engineConfig(embedded.New(), "embedded", "", slog.New(slog.DiscardHandler), tt.sc)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.BodyBytes != tt.bytes || cfg.Transient != tt.trans || cfg.Connections != tt.conns {
				t.Errorf("body %d transient %v connections %q; want %d %v %q", cfg.BodyBytes, cfg.Transient, cfg.Connections, tt.bytes, tt.trans, tt.conns)
			}
		})
	}
}

// TestWriteBatchFlag: AMQP connections gather their writes unless
// --write-batch=false says not to, and the dialer says which (for the
// report).
func TestWriteBatchFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"--write-batch=false"}, false}, {[]string{"--write-batch"}, true}} {
		var o runOptions
		cmd := &cobra.Command{}
		o.register(cmd)
		if err := cmd.Flags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		d := amqpbroker.New("amqp://guest:guest@localhost:5672/", o.amqpOptions()...)
		if got := d.WritesBatched(); got != tt.want {
			t.Errorf("%v: dialer batches writes %v, want %v", tt.args, got, tt.want)
		}
	}
}

// TestBrokerKnobFlagErrors: bad values are usage errors that name the flag
// and the valid choices.
func TestBrokerKnobFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ args []string }{
		{[]string{"--connections", "ring"}},
		{[]string{"--body-bytes", "-1"}},
		{[]string{"--body-bytes", "20000000"}},
	} {
		code, _, stderr := cli(t, nil, append([]string{"--broker", "embedded", "--headless"}, tt.args...)...)
		want := tt.args[0]
		if tt.args[0] == "--connections" {
			want = "valid are per-stage, per-worker, shared"
		}
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, stderr, want)
		}
	}
}

// TestManagementURLFromEnv: OMS_MANAGEMENT_URL is --management-url's
// default (a 4.0 node or a cluster's management port is not the --amqp
// host's 15672), and the flag wins over it.
func TestManagementURLFromEnv(t *testing.T) {
	t.Setenv("OMS_MANAGEMENT_URL", "http://mgmt.example:15673")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "http://mgmt.example:15673/api/"},
		{[]string{"--management-url", "http://other:1/api"}, "http://other:1/api/"},
		{[]string{"--management-url", "off"}, ""},
	} {
		var o runOptions
		cmd := &cobra.Command{}
		o.register(cmd)
		if err := cmd.Flags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := o.managementURL(); got != tt.want {
			t.Errorf("%v: management URL %q, want %q", tt.args, got, tt.want)
		}
	}
}
