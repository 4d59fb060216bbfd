package main

import (
	"strings"
	"testing"

	"oms-sim/internal/brokertest"
)

// TestTLSCommands runs the commands over RabbitMQ's TLS listeners
// (scripts/rabbitmq-tls.sh): AMQP and the stream protocol, a client
// certificate, and a wrong CA (exit 3, saying --tls-ca).
func TestTLSCommands(t *testing.T) {
	t.Parallel()
	f := brokertest.TLS(t)
	ns := cliNamespace(t)
	sc := writeFile(t, "tls.yaml", "name: tls\nphases: [{duration: 1s, rate: 20/s}]\nthresholds: [{metric: lost_orders, max: 0}]\n")
	tlsArgs := []string{"--amqp", f.AMQPS, "--tls-ca", f.CA, "--tls-cert", f.Cert, "--tls-key", f.Key}

	// The pipeline and its event stream over TLS (the stream URL derived
	// from amqps:// is rabbitmq-stream+tls:// on 5551).
	code, stdout, stderr := cli(t, nil, append([]string{"--scenario", sc, "--headless", "--http", "127.0.0.1:0", "--namespace", ns,
		"--events", "stream", "--driver", "publish", "--management-url", "off"}, tlsArgs...)...)
	if code != 0 || !strings.Contains(stdout, "RESULT: PASSED") || !strings.Contains(stderr, "amqps://guest@") {
		t.Errorf("scenario over TLS: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// bench: a classic queue over AMQPS and a stream over stream TLS.
	code, stdout, stderr = cli(t, nil, append([]string{"bench", "--queue-types", "classic,stream", "--duration", "1s", "--warmup", "0s"}, tlsArgs...)...)
	if code != 0 || !strings.Contains(stdout, "classic") || !strings.Contains(stdout, "stream") {
		t.Errorf("bench over TLS: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong CA", []string{"--amqp", f.AMQPS, "--tls-ca", f.OtherCA, "--headless", "--http", "127.0.0.1:0", "--events", "memory"}, exitUnreachable, "--tls-ca"},
		{"bench, wrong CA", []string{"bench", "--amqp", f.AMQPS, "--tls-ca", f.OtherCA}, exitUnreachable, "--tls-ca"},
		{"wrong server name", []string{"bench", "--amqp", f.AMQPS, "--tls-ca", f.CA, "--tls-server-name", "rabbit.example"}, exitUnreachable, "--tls-server-name"},
		{"TLS flags without amqps", []string{"bench", "--amqp", brokertest.URL(), "--tls-ca", f.CA}, exitUsage, "need an amqps://"},
		{"certificate without key", []string{"bench", "--amqp", f.AMQPS, "--tls-cert", f.Cert}, exitUsage, "--tls-cert and --tls-key go together"},
		{"missing CA file", []string{"bench", "--amqp", f.AMQPS, "--tls-ca", "/no/such/ca.pem"}, exitUsage, "--tls-ca"},
	} {
		code, _, stderr := cli(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tt.name, code, stderr, tt.code, tt.want)
		}
	}

	// --tls-insecure-skip-verify connects whatever the CA, and says so.
	code, _, stderr = cli(t, nil, "bench", "--amqp", f.AMQPS, "--tls-ca", f.OtherCA, "--tls-insecure-skip-verify", "--queue-types", "classic", "--duration", "1s", "--warmup", "0s")
	if code != 0 || !strings.Contains(stderr, "NOT verified") {
		t.Errorf("--tls-insecure-skip-verify: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
}
