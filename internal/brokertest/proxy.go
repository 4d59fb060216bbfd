package brokertest

import (
	"net"
	"net/url"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Proxy starts a TCP fault proxy (Toxiproxy, in process) in front of the
// test broker and returns it with an AMQP URL that goes through it. Faults
// are toxics added to p.Toxics (latency, timeout, bandwidth, …); the proxy
// stops at cleanup.
func Proxy(t testing.TB) (p *toxiproxy.Proxy, amqpURL string) {
	t.Helper()
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatalf("broker URL: %v", err)
	}
	upstream := u.Host
	if u.Port() == "" {
		upstream = net.JoinHostPort(u.Hostname(), "5672")
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p = toxiproxy.NewProxy(srv, "amqp-"+t.Name(), "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start fault proxy: %v", err)
	}
	t.Cleanup(p.Stop)
	u.Host = p.Listen
	return p, u.String()
}

// ReplaceProxy stops p, dropping its connections, and starts a proxy
// without toxics on the same address. Toxiproxy removes a latency toxic
// from a busy link only once the delayed data has passed (minutes at a
// latency of seconds), so a test that must end such a fault promptly
// replaces the proxy.
func ReplaceProxy(t testing.TB, p *toxiproxy.Proxy) *toxiproxy.Proxy {
	t.Helper()
	p.Stop()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	np := toxiproxy.NewProxy(srv, p.Name+"-2", p.Listen, p.Upstream)
	if err := np.Start(); err != nil {
		t.Fatalf("restart fault proxy: %v", err)
	}
	t.Cleanup(np.Stop)
	return np
}
