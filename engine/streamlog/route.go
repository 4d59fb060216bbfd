package streamlog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"
)

// Routing. A stream lives on some nodes of a cluster: a producer must
// talk to its leader, a consumer to one of its replicas. The client asks
// the node it first reached (the locator, any URL of Config.URL) where
// they are and connects to the host and port each node advertises
// (stream.advertised_host/_port), checking on connection that the node
// it reached is the one it wanted — and retrying, with no end, while it
// is not. An address resolver sends every connection to one address
// instead: right for a single node that advertises a host name this
// machine cannot resolve, fatal on a cluster, where it pins everything
// to one node and the check fails for ever.
//
// So each session asks for the stream's nodes first and uses no resolver
// when their advertised hosts resolve here; otherwise it maps the
// advertised port to the URL with that port (or, for a single-node
// stream and a single URL, to that URL), and when neither fits it fails
// with an error that says what to set, instead of hanging.

// role is what a session does on a stream: it decides which nodes it
// must reach.
type role int

const (
	roleProducer role = iota // the leader
	roleConsumer             // a replica (the leader when there are none)
)

// resolveTimeout bounds the look-up of one advertised host.
const resolveTimeout = 2 * time.Second

// hostResolves reports whether host has an address here.
func hostResolves(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	return err == nil && len(addrs) > 0
}

// node is a stream member as the broker advertises it.
type node struct {
	host string
	port int
}

func (n node) String() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

func nodeOf(b *stream.Broker) (node, error) {
	p, err := strconv.Atoi(b.Port)
	if err != nil {
		return node{}, fmt.Errorf("advertised port %q: %w", b.Port, err)
	}
	return node{host: b.Host, port: p}, nil
}

// route decides how a session with role r reaches a stream whose leader
// and replicas are as given: nil for "connect to the advertised
// addresses", else the one address to send the client to. eps are the
// configured URLs; resolves says whether a host name resolves here.
func route(leader node, replicas []node, r role, eps []endpoint, resolves func(string) bool) (*stream.AddressResolver, error) {
	targets := []node{leader}
	if r == roleConsumer && len(replicas) > 0 {
		// The client picks one replica at random; any of them may be it.
		targets = replicas
	}
	var unresolved []string
	for _, t := range targets {
		if !resolves(t.host) {
			unresolved = append(unresolved, t.String())
		}
	}
	if len(unresolved) == 0 {
		return nil, nil
	}
	if len(targets) == 1 {
		t := targets[0]
		for _, ep := range eps {
			if ep.port == t.port {
				return &stream.AddressResolver{Host: ep.host, Port: ep.port}, nil
			}
		}
		if len(eps) == 1 && len(replicas) == 0 {
			// One URL, one node: whatever it calls itself, the URL reaches it.
			return &stream.AddressResolver{Host: eps[0].host, Port: eps[0].port}, nil
		}
	}
	return nil, fmt.Errorf("%w: the stream's nodes advertise %s, which do not resolve here, and no stream URL maps them one to one: "+
		"set stream.advertised_host on the nodes to a name this machine resolves, or give --stream-url one URL per node with its advertised port",
		ErrUnroutable, strings.Join(unresolved, ", "))
}

// EnvViaURL, set to 1, sends every stream connection to the one
// --stream-url given, whatever the node advertises: for a single node
// reached through a TCP proxy or a port forward (scripts/chaos.sh puts a
// fault proxy there). It is ignored with a list of URLs.
const EnvViaURL = "OMS_STREAM_VIA_URL"

// ErrUnroutable is wrapped when the nodes holding a stream cannot be
// reached from here by the addresses they advertise.
var ErrUnroutable = errors.New("stream nodes unreachable by their advertised addresses")

// holders asks env which nodes hold stream name: its leader and its
// replicas. A replica whose advertised address does not parse fails it
// when strict, else is left out.
func holders(env *stream.Environment, name string, strict bool) (leader node, replicas []node, err error) {
	md, err := env.StreamMetaData(name)
	if err != nil {
		return node{}, nil, fmt.Errorf("where is stream %q: %w", name, err)
	}
	if leader, err = nodeOf(md.Leader); err != nil {
		return node{}, nil, err
	}
	for _, b := range md.Replicas {
		if b == nil {
			continue
		}
		n, err := nodeOf(b)
		if err != nil {
			if strict {
				return node{}, nil, err
			}
			continue
		}
		replicas = append(replicas, n)
	}
	return leader, replicas, nil
}

// routeEnv returns an environment whose connections for role r reach the
// nodes holding cfg's stream, given env, one connected without a
// resolver. It returns env itself when that needs nothing more (or the
// stream does not exist yet: only the locator is used then), else closes
// it and opens one with a resolver.
func routeEnv(env *stream.Environment, cfg Config, r role) (*stream.Environment, error) {
	if os.Getenv(EnvViaURL) == "1" {
		if eps, _ := parseURLs(cfg.URL); len(eps) == 1 {
			_ = env.Close()
			return dialEnv(cfg, &stream.AddressResolver{Host: eps[0].host, Port: eps[0].port})
		}
	}
	leader, replicas, err := holders(env, cfg.Stream, true)
	if err != nil {
		if errors.Is(err, stream.StreamDoesNotExist) {
			return env, nil
		}
		_ = env.Close()
		return nil, err
	}
	eps, _ := parseURLs(cfg.URL) // validated by Open
	res, err := route(leader, replicas, r, eps, hostResolves)
	if err != nil {
		_ = env.Close()
		return nil, err
	}
	if res == nil {
		return env, nil
	}
	_ = env.Close()
	return dialEnv(cfg, res)
}

// DialEnv opens a stream client environment on the first URL of rawURL
// (a comma-separated list for a cluster) that answers, with no address
// resolver: for declaring and deleting streams. Follow it with RouteEnv
// before creating producers or consumers.
func DialEnv(rawURL string, socketBuffer int, tlsConf *tls.Config) (*stream.Environment, error) {
	cfg := Config{URL: rawURL, SocketBuffer: socketBuffer, TLS: tlsConf}
	cfg.setDefaults()
	if _, err := parseURLs(cfg.URL); err != nil {
		return nil, err
	}
	cfg.URL = withPorts(cfg.URL)
	return dialEnv(cfg, nil)
}

// RouteEnv turns env, from DialEnv on rawURL, into an environment whose
// producers and consumers of streamName both reach the nodes holding it
// (see route): env itself when the advertised addresses resolve here,
// else a new one (env is closed). It fails when producers and consumers
// would need different routes.
func RouteEnv(env *stream.Environment, rawURL, streamName string, socketBuffer int, tlsConf *tls.Config) (*stream.Environment, error) {
	cfg := Config{URL: rawURL, Stream: streamName, SocketBuffer: socketBuffer, TLS: tlsConf}
	cfg.setDefaults()
	cfg.URL = withPorts(cfg.URL)
	leader, replicas, err := holders(env, streamName, false)
	if err != nil {
		_ = env.Close()
		return nil, err
	}
	eps, _ := parseURLs(cfg.URL)
	p, err := route(leader, replicas, roleProducer, eps, hostResolves)
	if err != nil {
		_ = env.Close()
		return nil, err
	}
	c, err := route(leader, replicas, roleConsumer, eps, hostResolves)
	if err != nil {
		_ = env.Close()
		return nil, err
	}
	switch {
	case p == nil && c == nil:
		return env, nil
	case p != nil && c != nil && *p == *c:
		_ = env.Close()
		return dialEnv(cfg, p)
	}
	_ = env.Close()
	return nil, fmt.Errorf("%w: the leader and the replicas of %q need different addresses; set stream.advertised_host on the nodes to a name this machine resolves", ErrUnroutable, streamName)
}
