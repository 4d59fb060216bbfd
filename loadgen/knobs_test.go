package loadgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oms-sim/engine"
)

// TestBrokerSectionReachesEngineAndReport runs a scenario whose broker:
// section asks for padded transient messages on per-worker connections:
// the engine runs so, every order is accounted for, and the report (JSON
// and text) states the knobs.
func TestBrokerSectionReachesEngineAndReport(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: knobs
broker: {body_bytes: 2048, persistent: false, connections: per-worker}
phases:
  - {duration: 1s, rate: 100/s}
thresholds:
  - {metric: lost_orders, max: 0}
`)
	e := startEngine(t, sc)
	if c := e.Config(); c.BodyBytes != 2048 || !c.Transient || c.Connections != engine.ConnPerWorker {
		t.Fatalf("engine config body %d transient %v connections %q, want the scenario's", c.BodyBytes, c.Transient, c.Connections)
	}
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}})
	if a := rep.Audit; a.Lost != 0 || a.Duplicated != 0 || a.Accepted != 100 || a.Confirmed != 100 || !rep.Passed {
		t.Fatalf("audit %+v passed %v, want 100 orders confirmed once", a, rep.Passed)
	}
	if b := rep.Broker; b.BodyBytes != 2048 || b.Persistent || b.Connections != engine.ConnPerWorker {
		t.Errorf("report broker %+v, want body 2048, transient, per-worker", b)
	}
	path := filepath.Join(t.TempDir(), "out.json")
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Broker map[string]any `json:"broker"`
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	// On RabbitMQ the connections batch their writes (the dialer's
	// default); the embedded broker has no writes to batch.
	amqp := rep.Broker.Kind == "rabbitmq"
	if back.Broker["body_bytes"] != 2048.0 || back.Broker["persistent"] != false || back.Broker["connections"] != "per-worker" ||
		back.Broker["writes_batched"] != amqp {
		t.Errorf("JSON broker %v, want body_bytes 2048, persistent false, connections per-worker, writes_batched %v", back.Broker, amqp)
	}
	want := "messages: bodies of 2048 B · transient (delivery mode 1) · connections per-worker\n"
	if amqp {
		want = "messages: bodies of 2048 B · transient (delivery mode 1) · connections per-worker · writes batched\n"
	}
	for _, text := range []string{rep.Text(), rep.Markdown()} {
		if !strings.Contains(text, want) {
			t.Errorf("report header does not state the broker knobs:\n%s", text[:min(len(text), 600)])
		}
	}
}
