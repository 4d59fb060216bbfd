package loadgen

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/streamlog"
	"oms-sim/internal/brokertest"
)

// TestRunSurvivesConnectionLoss runs a scenario with the event log on a
// RabbitMQ stream and closes every connection (AMQP and stream) from the
// broker's side mid-run: orders still complete, the log resumes, and the
// audit — which reads the stream — finds nothing lost.
func TestRunSurvivesConnectionLoss(t *testing.T) {
	amqpURL, streamURL := brokertest.Vhost(t)
	if err := streamlog.Ping(context.Background(), streamURL); err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no stream protocol: %v", err)
		}
		t.Skipf("no stream protocol: %v (rabbitmq-plugins enable rabbitmq_stream)", err)
	}
	u, _ := url.Parse(amqpURL)
	vhost := u.Path[1:]

	sc := parse(t, `
name: outage
seed: 8
phases: [{duration: 10s, rate: 100/s}]
`)
	ctx := context.Background()
	evLog, err := streamlog.Open(ctx, streamlog.Config{URL: streamURL})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Dialer: amqpbroker.New(amqpURL), Events: engine.EventsStream}
	ApplyToConfig(sc, &cfg)
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.SetEventLog(evLog) // the engine closes it
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	r, err := New(Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, Broker: e.Snapshot().Broker, DrainTimeout: 40 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Time, 1)
	go func() {
		time.Sleep(time.Second)
		closeAll(vhost)
		closed <- time.Now()
	}()
	start := time.Now()
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// rabbitmqctl boots an Erlang VM: on a loaded CI host that alone has
	// taken over 4 s, hence the long phase.
	if at := (<-closed).Sub(start); at > 9*time.Second {
		t.Fatalf("the broker-side close took until %v, too late for a 10s load (machine overloaded?)", at)
	}
	st := evLog.Stats()
	t.Logf("audit %+v; stream %+v; api refusals %d", rep.Audit, st, rep.Failed)
	if rep.Audit.Lost != 0 || rep.Audit.Duplicated != 0 {
		t.Fatalf("audit %+v: want nothing lost or duplicated across the outage", rep.Audit)
	}
	if st.Reconnects == 0 {
		t.Errorf("the stream log never reconnected (stats %+v): was the outage applied?", st)
	}
	if e.Snapshot().Broker.Reconnects == 0 {
		t.Error("the engine never reconnected to AMQP")
	}
	if st.Dropped != 0 {
		t.Errorf("%d trace events dropped", st.Dropped)
	}
	// Orders refused during the outage were not accepted; the rest were.
	if rep.Audit.Accepted+rep.Failed != rep.Sent || rep.Audit.Accepted < rep.Sent/2 {
		t.Errorf("sent %d, accepted %d, failed %d", rep.Sent, rep.Audit.Accepted, rep.Failed)
	}
}

// closeAll closes every connection to vhost from the broker's side. It runs
// on a goroutine of its own, so it logs instead of failing the test.
func closeAll(vhost string) {
	if out, err := exec.Command("rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "test: simulated outage").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "rabbitmqctl close_all_connections: %v: %s\n", err, out)
	}
}
