package brokertest

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TLSFiles are the certificates scripts/rabbitmq-tls.sh made for the
// broker's TLS listeners.
type TLSFiles struct {
	// CA signed the broker's and the client's certificates; OtherCA
	// signed neither (a wrong --tls-ca).
	CA, OtherCA string
	// Cert and Key are a client certificate the broker accepts.
	Cert, Key string
	// AMQPS and Stream are the TLS URLs of the broker (guest/guest, on
	// 127.0.0.1, whose certificate names localhost and 127.0.0.1).
	AMQPS, Stream string
}

// TLS returns the TLS listeners' URLs and certificates, skipping the test
// when the broker has no TLS listener (or failing it under
// OMS_REQUIRE_BROKER=1): scripts/rabbitmq-tls.sh sets one up.
// OMS_TLS_DIR names the certificates' directory (default
// /etc/rabbitmq/oms-tls).
func TLS(t testing.TB) TLSFiles {
	t.Helper()
	Dialer(t)
	dir := os.Getenv("OMS_TLS_DIR")
	if dir == "" {
		dir = "/etc/rabbitmq/oms-tls"
	}
	host := "127.0.0.1"
	if u, err := url.Parse(URL()); err == nil && u.Hostname() != "" && u.Hostname() != "localhost" {
		host = u.Hostname()
	}
	if u, err := url.Parse(URL()); err == nil && u.Port() != "" && u.Port() != "5672" {
		// scripts/rabbitmq-tls.sh gives TLS listeners to the host's node
		// only; a test broker elsewhere (the 4.0 node of the CI matrix)
		// has none, and its rabbitmqctl would not see our connections.
		t.Skipf("the TLS listeners are the host node's (5671, 5551); the test broker is %s", URL()[strings.LastIndex(URL(), "@")+1:])
	}
	f := TLSFiles{
		CA: filepath.Join(dir, "ca.pem"), OtherCA: filepath.Join(dir, "other-ca.pem"),
		Cert: filepath.Join(dir, "client.pem"), Key: filepath.Join(dir, "client.key"),
		AMQPS:  "amqps://guest:guest@" + net.JoinHostPort(host, "5671") + "/",
		Stream: "rabbitmq-stream+tls://guest:guest@" + net.JoinHostPort(host, "5551") + "/",
	}
	missing := ""
	for _, p := range []string{f.CA, f.OtherCA, f.Cert, f.Key} {
		if _, err := os.Stat(p); err != nil {
			missing = err.Error()
		}
	}
	for _, port := range []string{"5671", "5551"} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
		if err != nil {
			missing = "no TLS listener: " + err.Error()
			continue
		}
		c.Close()
	}
	if missing != "" {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("RabbitMQ's TLS listeners: %s (OMS_REQUIRE_BROKER=1; run scripts/rabbitmq-tls.sh)", missing)
		}
		t.Skipf("RabbitMQ's TLS listeners: %s; skipping (scripts/rabbitmq-tls.sh sets them up)", missing)
	}
	return f
}
