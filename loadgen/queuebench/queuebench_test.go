package queuebench

import (
	"context"
	"net"
	"oms-sim/engine/streamlog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/brokertest"
)

func TestRunMeasuresEachType(t *testing.T) {
	brokertest.Dialer(t) // skips without RabbitMQ
	u := brokertest.StreamURL()
	types := []string{Classic, Quorum, Stream}
	host, port, err := streamlog.HostPort(u)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second); err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no stream protocol at %s:%d: %v", host, port, err)
		}
		t.Logf("no stream protocol at %s:%d (%v): measuring classic and quorum only", host, port, err)
		types = types[:2]
	} else {
		c.Close()
	}
	res, err := Run(context.Background(), Config{AMQPURL: brokertest.URL(), StreamURL: u, Types: types,
		Warmup: 200 * time.Millisecond, Duration: time.Second, Prefix: "test-queuebench"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(types) {
		t.Fatalf("%d results for %d types", len(res), len(types))
	}
	for _, r := range res {
		if r.Err != "" {
			t.Errorf("%s: %s", r.Type, r.Err)
			continue
		}
		if r.Published < 100 || r.Consumed < 100 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: %+v: want messages through and ordered percentiles", r.Type, r)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Types: []string{"classic", "lazy"}, Size: 4, InFlight: 0, Prefetch: 1, Duration: time.Second}
	err := c.Validate()
	for _, want := range []string{`"lazy"`, "size", "in-flight"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %s", err, want)
		}
	}
}
