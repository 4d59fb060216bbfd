package amqpbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/internal/brokertest"
)

// TestTLS connects to RabbitMQ's TLS listener (scripts/rabbitmq-tls.sh):
// with the right CA, with a client certificate the broker sees, and with
// a wrong CA or server name, which fail saying what to change.
func TestTLS(t *testing.T) {
	f := brokertest.TLS(t)
	ctx := context.Background()
	dial := func(o broker.TLSOptions, name string) (broker.Conn, error) {
		t.Helper()
		c, err := o.Config()
		if err != nil {
			t.Fatalf("TLS options %+v: %v", o, err)
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		return amqpbroker.New(f.AMQPS, amqpbroker.WithTLS(c)).Dial(cctx, name)
	}

	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "oms-sim tls test " + hex.EncodeToString(b[:])
	conn, err := dial(broker.TLSOptions{CA: f.CA, Cert: f.Cert, Key: f.Key}, name)
	if err != nil {
		t.Fatalf("dial with the CA and a client certificate: %v", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("channel over TLS: %v", err)
	}
	ch.Close()
	// The broker saw our certificate (rabbitmqctl boots a VM: give it time
	// on a loaded machine).
	out, err := exec.Command("rabbitmqctl", "-q", "--timeout", "30", "list_connections", "client_properties", "ssl", "peer_cert_subject").CombinedOutput()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) && os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("rabbitmqctl not on PATH (OMS_REQUIRE_BROKER=1): %v", err)
		}
		t.Logf("rabbitmqctl list_connections: %v (not checking the broker's view)", err)
	} else {
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, name) {
				found = true
				if !strings.Contains(line, "true") || !strings.Contains(line, "CN=oms-sim test client") {
					t.Errorf("the broker's view of our connection: %s; want ssl true and the client certificate's subject", line)
				}
			}
		}
		if !found {
			t.Errorf("connection %q not in rabbitmqctl list_connections:\n%s", name, out)
		}
	}

	for _, tt := range []struct {
		name string
		o    broker.TLSOptions
		want string
	}{
		{"wrong CA", broker.TLSOptions{CA: f.OtherCA}, "--tls-ca"},
		{"wrong server name", broker.TLSOptions{CA: f.CA, ServerName: "rabbit.example"}, "--tls-server-name"},
	} {
		c, err := dial(tt.o, "oms-sim tls "+tt.name)
		if err == nil {
			c.Close()
			t.Errorf("%s: connected; want a refusal", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "guest:guest") {
			t.Errorf("%s: %v; want it to name %s (and no password)", tt.name, err, tt.want)
		}
	}
	c, err := dial(broker.TLSOptions{CA: f.OtherCA, InsecureSkipVerify: true}, "oms-sim tls insecure")
	if err != nil {
		t.Errorf("--tls-insecure-skip-verify with a wrong CA: %v; want a connection", err)
	} else {
		c.Close()
	}
	if err := amqpbroker.Ping(ctx, f.AMQPS); err == nil {
		t.Error("Ping without our CA succeeded: the system roots must not trust the test CA")
	}
}
