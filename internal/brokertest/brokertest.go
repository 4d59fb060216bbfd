// Package brokertest gives integration tests the real RabbitMQ: a dialer
// that skips the test when no broker answers (or fails it under
// OMS_REQUIRE_BROKER=1), unique namespaces, and cleanup of what a test
// declared.
package brokertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
)

// URL is the broker integration tests use: OMS_AMQP_URL or localhost.
func URL() string {
	if u := os.Getenv("OMS_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@localhost:5672/"
}

// Dialer returns a dialer for the real RabbitMQ, skipping the test when
// none answers, or failing it when OMS_REQUIRE_BROKER=1.
func Dialer(t testing.TB) *amqpbroker.Dialer {
	t.Helper()
	if err := amqpbroker.Ping(context.Background(), URL()); err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("no RabbitMQ at %s: %v (OMS_REQUIRE_BROKER=1)", amqpbroker.Redact(URL()), err)
		}
		t.Skipf("no RabbitMQ at %s: %v; skipping (set OMS_REQUIRE_BROKER=1 to fail instead)", amqpbroker.Redact(URL()), err)
	}
	return amqpbroker.New(URL())
}

// Namespace returns a name prefix unique to this test.
func Namespace(t testing.TB) string {
	return fmt.Sprintf("test-%s-%06d", SafeName(t), rand.IntN(1_000_000))
}

// Delete removes the queues and exchanges of topo from RabbitMQ, logging
// (not failing) on trouble: it runs at cleanup.
func Delete(t testing.TB, topo broker.Topology) {
	conn, err := amqp.Dial(URL())
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	for _, q := range topo.Queues {
		if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
			t.Logf("cleanup queue %s: %v", q.Name, err)
			return
		}
	}
	for _, x := range topo.Exchanges {
		if err := ch.ExchangeDelete(x.Name, false, false); err != nil {
			t.Logf("cleanup exchange %s: %v", x.Name, err)
			return
		}
	}
}

// Vhost creates a virtual host of the test's own (deleted at cleanup) and
// returns the AMQP and stream URLs for it. Tests that close connections
// from the broker side use one, so they close only their own.
func Vhost(t testing.TB) (amqpURL, streamURL string) {
	t.Helper()
	Dialer(t)
	NeedTool(t, "rabbitmqctl")
	vhost := fmt.Sprintf("oms-test-%08x", rand.Uint32())
	rabbitmqctl(t, "add_vhost", vhost)
	t.Cleanup(func() { rabbitmqctl(t, "delete_vhost", vhost) })
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatal(err)
	}
	rabbitmqctl(t, "set_permissions", "-p", vhost, u.User.Username(), ".*", ".*", ".*")
	u.Path = "/" + vhost
	s := *u
	s.Scheme = "rabbitmq-stream"
	s.Host = net.JoinHostPort(u.Hostname(), StreamPort())
	return u.String(), s.String()
}

// StreamPort is the test broker's stream port: OMS_STREAM_URL's, or 5552.
func StreamPort() string {
	if su, err := url.Parse(os.Getenv("OMS_STREAM_URL")); err == nil && su.Port() != "" {
		return su.Port()
	}
	return "5552"
}

// StreamURL is the test broker's stream URL: OMS_STREAM_URL, or the
// AMQP URL's host and credentials on the stream port.
func StreamURL() string {
	if s := os.Getenv("OMS_STREAM_URL"); s != "" {
		return s
	}
	u, err := url.Parse(URL())
	if err != nil {
		return "rabbitmq-stream://guest:guest@localhost:5552/"
	}
	u.Scheme = "rabbitmq-stream"
	u.Host = net.JoinHostPort(u.Hostname(), StreamPort())
	return u.String()
}

func rabbitmqctl(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %v: %v: %s", args, err, out)
	}
}

// Rabbitmqctl runs rabbitmqctl with args on the local node and fails the
// test if it cannot (under OMS_REQUIRE_BROKER=1 too: a test that needs it
// must not pass without it).
func Rabbitmqctl(t testing.TB, args ...string) { t.Helper(); rabbitmqctl(t, args...) }

// NeedTool skips the test when the command tool (rabbitmqctl, tmux) is
// not on PATH — or fails it under OMS_REQUIRE_BROKER=1: CI must not pass
// a test it did not run.
func NeedTool(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
		t.Fatalf("%s not on PATH (OMS_REQUIRE_BROKER=1): %v", tool, err)
	}
	t.Skipf("%s not on PATH: %v; skipping (set OMS_REQUIRE_BROKER=1 to fail instead)", tool, err)
	return ""
}
