package streamlog

import (
	"testing"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

func TestRoute(t *testing.T) {
	t.Parallel()
	resolves := func(h string) bool { return h == "localhost" || h == "node-a.example" }
	a, b, c := node{"localhost", 5591}, node{"localhost", 5592}, node{"localhost", 5593}
	hidden := func(port int) node { return node{"rabbit-internal", port} } // does not resolve
	single := []endpoint{{host: "broker.example", port: 5552}}
	cluster := []endpoint{{host: "10.0.0.1", port: 5591}, {host: "10.0.0.2", port: 5592}, {host: "10.0.0.3", port: 5593}}
	tests := []struct {
		name     string
		leader   node
		replicas []node
		r        role
		eps      []endpoint
		want     *stream.AddressResolver
		wantErr  bool
	}{
		{"cluster, advertised hosts resolve: producer goes to the leader itself", b, []node{a, c}, roleProducer, cluster, nil, false},
		{"cluster, advertised hosts resolve: consumer to a replica itself", b, []node{a, c}, roleConsumer, cluster, nil, false},
		{"single node with an internal name: the one URL", hidden(5552), nil, roleProducer, single, &stream.AddressResolver{Host: "broker.example", Port: 5552}, false},
		{"single node behind another port: still the one URL", hidden(5552), nil, roleConsumer, []endpoint{{host: "proxy", port: 15552}}, &stream.AddressResolver{Host: "proxy", Port: 15552}, false},
		{"cluster with internal names: producer by the leader's port", hidden(5592), []node{hidden(5591), hidden(5593)}, roleProducer, cluster, &stream.AddressResolver{Host: "10.0.0.2", Port: 5592}, false},
		{"cluster with internal names: consumer cannot be pinned", hidden(5592), []node{hidden(5591), hidden(5593)}, roleConsumer, cluster, nil, true},
		{"cluster with internal names, port not in the list", hidden(5599), []node{hidden(5591)}, roleProducer, cluster, nil, true},
		{"single-replica stream on a cluster with internal names: by port", hidden(5593), nil, roleConsumer, cluster, &stream.AddressResolver{Host: "10.0.0.3", Port: 5593}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := route(tt.leader, tt.replicas, tt.r, tt.eps, resolves)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("resolver = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseURLs(t *testing.T) {
	t.Parallel()
	eps, err := parseURLs(" rabbitmq-stream://g:g@localhost:5591/ , rabbitmq-stream://g:g@localhost:5592/,")
	if err != nil || len(eps) != 2 || eps[1].port != 5592 {
		t.Fatalf("eps %+v err %v", eps, err)
	}
	for _, bad := range []string{"", " , ", "rabbitmq-stream://g:g@a:1/,amqp://g:g@b:2/", "rabbitmq-stream://a:1/,rabbitmq-stream+tls://b:2/"} {
		if _, err := parseURLs(bad); err == nil {
			t.Errorf("parseURLs(%q): no error", bad)
		}
	}
	if got, want := withPorts("rabbitmq-stream://g:g@a/,rabbitmq-stream://g:g@b:5592/"), "rabbitmq-stream://g:g@a:5552/,rabbitmq-stream://g:g@b:5592/"; got != want {
		t.Errorf("withPorts = %q, want %q", got, want)
	}
}
