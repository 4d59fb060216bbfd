package streamlog

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"oms-sim/engine/broker"
	"oms-sim/internal/outage"
	"strconv"
	"strings"
	"time"
)

// Defaults for Config.
const (
	DefaultURL    = "rabbitmq-stream://guest:guest@localhost:5552/"
	DefaultStream = "oms.events"
	// DefaultRunStream is the stream of run records beside DefaultStream.
	DefaultRunStream = "oms.runs"
	// DefaultBuffer bounds the events held in memory while they wait for
	// the broker's confirmation (queued, in flight, or buffered across a
	// reconnection).
	DefaultBuffer = 100_000
	// DefaultSocketBuffer is the TCP send and receive buffer of every
	// stream connection. The client's own default (8 KiB) is smaller than
	// one segment on a 64 KiB-MTU loopback and throttles a consumer to a
	// few hundred messages a second (see BenchmarkAppendDeliver).
	DefaultSocketBuffer = 1 << 20
	// DefaultName prefixes the connection names shown by the broker.
	DefaultName = "oms-sim"
	// DefaultPort is the stream protocol's port.
	DefaultPort = 5552
	// DefaultOpenTimeout bounds Open: a few RPCs (each bounded at 5 s by
	// the client) on a healthy broker take milliseconds.
	DefaultOpenTimeout = 15 * time.Second
)

// Config configures a Log. The zero value plus a URL is usable.
type Config struct {
	// URL of the stream listener, e.g.
	// "rabbitmq-stream://guest:guest@localhost:5552/" (the path is the
	// vhost; "rabbitmq-stream+tls://" for TLS), or a comma-separated list
	// of the nodes of a cluster: the first that answers is asked where
	// the stream lives (see route.go). Default DefaultURL.
	URL string
	// OpenTimeout bounds Open and each reconnection: a stream that cannot
	// be reached in that time is an error wrapping ErrUnreachable, never a
	// hang. Default DefaultOpenTimeout.
	OpenTimeout time.Duration
	// Stream is the stream's name. Default DefaultStream.
	Stream string
	// MaxAge is the stream's retention by age (whole seconds); 0 keeps
	// events until MaxBytes or forever. Applied only when this Open creates
	// the stream: an existing stream keeps its arguments.
	MaxAge time.Duration
	// MaxBytes is the stream's retention by size; 0 means no limit. Like
	// MaxAge, applied only on creation.
	MaxBytes int64
	// Buffer bounds the events waiting to be confirmed by the broker.
	// Append drops (and counts) an event when it is full. Default
	// DefaultBuffer.
	Buffer int
	// SocketBuffer is the TCP read and write buffer size of each
	// connection. Default DefaultSocketBuffer.
	SocketBuffer int
	// Name prefixes the names of this log's connections. Default
	// DefaultName; a process usually passes "oms-sim/<process>".
	Name string
	// Logger receives connection losses and reconnections; nil discards.
	Logger *slog.Logger
	// TLS configures rabbitmq-stream+tls:// connections (CAs, client
	// certificate, server name); nil trusts the system's roots and
	// verifies the URL's host. Each connection uses a copy.
	TLS *tls.Config

	// RunStream, when set, is a second, small stream that gets a copy of
	// every run.started and run.finished event, so `oms-sim runs` lists
	// the runs without reading every order's events (see ReadRuns). It is
	// declared with the same retention as Stream.
	RunStream string

	writeOnly bool // no consumer: the run stream's Log only appends
	// outage, when set, is the tracker the Log shares (the run stream's
	// Log shares the event log's: one outage, one pair of log lines).
	outage *outage.Tracker
}

func (c *Config) setDefaults() {
	c.URL = cmp.Or(c.URL, DefaultURL)
	c.Stream = cmp.Or(c.Stream, DefaultStream)
	c.Buffer = cmp.Or(c.Buffer, DefaultBuffer)
	c.SocketBuffer = cmp.Or(c.SocketBuffer, DefaultSocketBuffer)
	c.Name = cmp.Or(c.Name, DefaultName)
	c.OpenTimeout = cmp.Or(c.OpenTimeout, DefaultOpenTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseURLs(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("URL: %w", err))
	}
	if c.OpenTimeout < 0 {
		errs = append(errs, fmt.Errorf("OpenTimeout: %v is negative", c.OpenTimeout))
	}
	if strings.TrimSpace(c.Stream) == "" {
		errs = append(errs, errors.New("Stream: empty"))
	} else if len(c.Stream) > 255 {
		errs = append(errs, fmt.Errorf("Stream: %d bytes, at most 255", len(c.Stream)))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("MaxAge: %v is negative", c.MaxAge))
	} else if c.MaxAge > 0 && c.MaxAge < time.Second {
		errs = append(errs, fmt.Errorf("MaxAge: %v, the broker counts whole seconds", c.MaxAge))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxBytes: %d is negative", c.MaxBytes))
	}
	if c.Buffer < 1 {
		errs = append(errs, fmt.Errorf("Buffer: %d, want at least 1", c.Buffer))
	}
	if c.SocketBuffer < 4096 {
		errs = append(errs, fmt.Errorf("SocketBuffer: %d, want at least 4096", c.SocketBuffer))
	}
	return errors.Join(errs...)
}

// endpoint is what a stream URL says.
type endpoint struct {
	tls  bool
	host string
	port int
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// HostPort returns the host and port a stream URL names (5552 when it
// names none), for an address resolver; of a list, the first's.
func HostPort(raw string) (string, int, error) {
	eps, err := parseURLs(raw)
	if err != nil {
		return "", 0, err
	}
	return eps[0].host, eps[0].port, nil
}

// parseURLs parses a comma-separated list of stream URLs; all must use
// the same scheme (TLS or not) and vhost.
func parseURLs(raw string) ([]endpoint, error) {
	urls := broker.SplitURLs(raw)
	if len(urls) == 0 {
		return nil, errors.New("empty")
	}
	eps := make([]endpoint, 0, len(urls))
	var errs []error
	for i, u := range urls {
		ep, err := parseURL(u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i > 0 && len(eps) > 0 && ep.tls != eps[0].tls {
			errs = append(errs, fmt.Errorf("%s: mixes TLS and plain URLs", redact(u)))
		}
		eps = append(eps, ep)
	}
	return eps, errors.Join(errs...)
}

func parseURL(raw string) (endpoint, error) {
	// broker.CheckURL's errors never repeat the password (url.Error's do).
	u, err := broker.CheckURL("stream URL", raw, "rabbitmq-stream", "rabbitmq-stream+tls")
	if err != nil {
		return endpoint{}, err
	}
	var ep endpoint
	ep.tls = u.Scheme == "rabbitmq-stream+tls"
	ep.host = u.Hostname()
	if ep.host == "" {
		return endpoint{}, errors.New("no host")
	}
	ep.port = DefaultPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return endpoint{}, fmt.Errorf("port %q", p)
		}
		ep.port = n
	}
	if v := strings.TrimPrefix(u.Path, "/"); strings.Contains(v, "/") && v != "/" {
		return endpoint{}, fmt.Errorf("path %q: one segment (the vhost) at most", u.Path)
	}
	return ep, nil
}

// withPorts returns the list raw with each URL's default port made
// explicit (see withPort).
func withPorts(raw string) string {
	urls := broker.SplitURLs(raw)
	for i, u := range urls {
		if ep, err := parseURL(u); err == nil {
			urls[i] = withPort(u, ep)
		}
	}
	return strings.Join(urls, ",")
}

// withPort returns raw with the default port made explicit: the client
// dials the URL's host and port as written, and an empty port fails.
func withPort(raw string, ep endpoint) string {
	u, err := url.Parse(raw)
	if err != nil || u.Port() != "" {
		return raw
	}
	u.Host = ep.addr()
	return u.String()
}

// redact returns raw (a URL or a comma-separated list) with any password
// removed.
func redact(raw string) string {
	parts := strings.Split(raw, ",")
	for i, u := range parts {
		parts[i] = broker.Redact(strings.TrimSpace(u))
	}
	return strings.Join(parts, ",")
}
