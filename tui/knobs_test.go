package tui

import (
	"testing"

	"oms-sim/engine"
)

// TestBrokerKnobs: the header names only knobs that differ from the
// defaults, so a default run's header is unchanged.
func TestBrokerKnobs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		b    engine.BrokerStatus
		want string
	}{
		{engine.BrokerStatus{Persistent: true, Connections: engine.ConnPerStage}, ""},
		{engine.BrokerStatus{}, ""}, // not from an engine: nothing known
		{engine.BrokerStatus{BodyBytes: 1024, Persistent: true, Connections: engine.ConnPerStage}, "1024B"},
		{engine.BrokerStatus{BodyBytes: 512, Connections: engine.ConnPerWorker}, "512B transient per-worker"},
		{engine.BrokerStatus{Persistent: true, Connections: engine.ConnShared}, "shared"},
	} {
		if got := brokerKnobs(tt.b); got != tt.want {
			t.Errorf("brokerKnobs(%+v) = %q, want %q", tt.b, got, tt.want)
		}
	}
}
