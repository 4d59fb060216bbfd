// Package amqpbroker implements the broker interfaces over a real RabbitMQ
// using github.com/rabbitmq/amqp091-go. It owns the AMQP details the engine
// should not see: naming connections, confirm mode, prefetch, the
// notification channels amqp091 requires to be drained, queue arguments for
// TTL and dead-lettering, and turning the broker's terse exceptions into
// errors that say what to do.
//
// It deliberately does not use amqp091's opt-in connection recovery
// (amqp.Config.Recovery): the engine runs its own reconnect loop, driven by
// Conn.Closed and Conn.Err, and the two must not be mixed.
package amqpbroker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// Defaults for a Dialer.
const (
	// DefaultHeartbeat is the AMQP heartbeat interval requested from the
	// broker. A silent peer (a half-open connection) is noticed within one
	// and a half intervals: after each frame it reads, amqp091 sets the
	// socket's read deadline three half-intervals ahead, and RabbitMQ sends
	// a frame at least every half interval
	// (TestHalfOpenDetectedWithinTwoHeartbeats).
	DefaultHeartbeat = 10 * time.Second
	// DefaultDialTimeout bounds the TCP connect plus the AMQP handshake, so
	// that a blackholed host fails fast instead of after amqp091's 30s.
	DefaultDialTimeout = 5 * time.Second
	// PingTimeout bounds Ping when its context has no earlier deadline.
	PingTimeout = 2 * time.Second
	// closeTimeout bounds the connection.close handshake in Conn.Close.
	closeTimeout = 5 * time.Second
)

// Dialer opens named connections to RabbitMQ: to one URL, or to one of
// the nodes of a comma-separated list (see nodes.go).
type Dialer struct {
	url         string
	nodes       *nodes
	heartbeat   time.Duration
	dialTimeout time.Duration
	tls         *tls.Config // nil: amqp091's default for amqps://
	batch       bool        // group writes (batchconn.go)
}

var _ broker.Dialer = (*Dialer)(nil)

// Option adjusts a Dialer.
type Option func(*Dialer)

// WithHeartbeat sets the heartbeat interval requested from the broker. A
// heartbeat parameter in the URL takes precedence (amqp091 rule).
func WithHeartbeat(d time.Duration) Option {
	return func(dl *Dialer) { dl.heartbeat = d }
}

// WithDialTimeout bounds the TCP connect and AMQP handshake of each Dial.
func WithDialTimeout(d time.Duration) Option {
	return func(dl *Dialer) { dl.dialTimeout = d }
}

// WithTLS sets the TLS configuration of amqps:// connections: trusted
// CAs, a client certificate, the server name. Each dial uses a copy.
func WithTLS(c *tls.Config) Option {
	return func(dl *Dialer) { dl.tls = c }
}

// WithWriteBatching groups the frames written to each connection into
// fewer write syscalls (see batchConn). New turns it on; false writes
// each frame group as amqp091 flushes it.
func WithWriteBatching(on bool) Option {
	return func(dl *Dialer) { dl.batch = on }
}

// WritesBatched says whether the connections this Dialer opens group
// their writes (WithWriteBatching), for reports.
func (d *Dialer) WritesBatched() bool { return d.batch }

// New returns a Dialer for the AMQP URL rawURL, e.g.
// "amqp://guest:guest@localhost:5672/". The URL is parsed on Dial.
func New(rawURL string, opts ...Option) *Dialer {
	d := &Dialer{url: rawURL, nodes: newNodes(rawURL), heartbeat: DefaultHeartbeat, dialTimeout: DefaultDialTimeout, batch: true}
	for _, o := range opts {
		o(d)
	}
	if d.dialTimeout <= 0 {
		d.dialTimeout = DefaultDialTimeout
	}
	return d
}

// Describe returns the URL (or the list) without passwords.
func (d *Dialer) Describe() string { return d.nodes.describe() }

// Dial opens a connection whose client property connection_name is name, so
// that it shows up under that name in the management UI. (On RabbitMQ 3.10
// the "name" column of rabbitmqctl list_connections is "peer -> local"; the
// given name is in the client_properties column.)
func (d *Dialer) Dial(ctx context.Context, name string) (broker.Conn, error) {
	c, err := d.dial(ctx, name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// dial connects to the nodes in turn, starting with the one after the
// last dial's (so sessions spread over the list and a reconnection tries
// another node first), until one answers.
func (d *Dialer) dial(ctx context.Context, name string) (*Conn, error) {
	return d.nodes.each(ctx, func(rawURL string) (*Conn, error) { return d.dial1(ctx, rawURL, name) })
}

func (d *Dialer) dial1(ctx context.Context, rawURL, name string) (*Conn, error) {
	// amqp091's parse errors repeat the URL, password included: check it
	// first, with errors that do not.
	if err := CheckURL("AMQP URL", rawURL); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dial %s as %q: %w", Redact(rawURL), name, err)
	}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(name)

	// amqp091 has no context-aware dial. The custom Dial func makes the TCP
	// connect honour ctx and puts one deadline on the whole handshake
	// (amqp091 clears it in openComplete); the AfterFunc below aborts a
	// handshake in progress when ctx is cancelled.
	var (
		mu      sync.Mutex
		netConn net.Conn
	)
	cfg := amqp.Config{
		Heartbeat:  d.heartbeat,
		Properties: props,
		Locale:     "en_US",
		// A copy per dial: amqp091 writes ServerName into it.
		TLSClientConfig: broker.ForHost(d.tls, hostOf(rawURL)),
		Dial: func(network, addr string) (net.Conn, error) {
			nd := net.Dialer{Timeout: d.dialTimeout}
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			deadline := time.Now().Add(d.dialTimeout)
			if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
				deadline = dl
			}
			if err := c.SetDeadline(deadline); err != nil {
				_ = c.Close() // the set-up error is the one worth reporting
				return nil, err
			}
			if d.batch {
				c = newBatchConn(c)
			}
			mu.Lock()
			netConn = c
			mu.Unlock()
			return c, nil
		},
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if netConn != nil {
			_ = netConn.Close() // makes the blocked handshake return
		}
	})
	ac, err := amqp.DialConfig(rawURL, cfg)
	stopped := stop()
	if err != nil {
		// A reply from the server (e.g. 530 unknown vhost) says more than
		// the deadline that cut the wait short. amqp091 reports I/O
		// failures and its own inferences as *amqp.Error too, with Server
		// false: bad credentials show up as its ErrCredentials (403) when
		// the socket closes during the tune phase, because RabbitMQ closes
		// it silently after a 3 s delay instead of replying.
		var ae *amqp.Error
		cerr := ctx.Err()
		if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
			// The socket deadline (set to ctx's) fired a moment before
			// ctx's own timer: the same deadline, so the same error.
			cerr = context.DeadlineExceeded
		}
		if cerr != nil && !(errors.As(err, &ae) && ae.Server) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		err = explainTLS(err)
		return nil, fmt.Errorf("dial %s as %q: %w", Redact(rawURL), name, err)
	}
	if !stopped {
		// ctx ended while the handshake finished: the socket may already be
		// closed under the new connection, so do not hand it out.
		_ = ac.Close() // already failing; ctx.Err is the error to report
		return nil, fmt.Errorf("dial %s as %q: %w", Redact(rawURL), name, ctx.Err())
	}
	c := newConn(ac, name)
	c.node = nodeName(rawURL)
	return c, nil
}

// Ping reports whether a broker answers at rawURL (at one node of a
// list): it dials, completes the
// AMQP handshake (so credentials and vhost are checked too) and closes. It
// gives up after PingTimeout unless ctx ends sooner. It is what --broker
// auto uses to choose between RabbitMQ and the embedded broker. An error
// wrapping an *amqp.Error with code 403 (bad credentials; RabbitMQ takes 3 s
// to refuse them, so this arrives with the PingTimeout deadline) or 530
// (unknown vhost) means a broker is there but refused: a configuration
// mistake to report, not a reason to fall back.
func Ping(ctx context.Context, rawURL string, opts ...Option) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	c, err := New(rawURL, append(opts, WithDialTimeout(PingTimeout))...).dial(ctx, "oms-sim ping")
	if err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("ping %s: %w", Redact(rawURL), err)
	}
	return nil
}

// hostOf is the URL's host name, what a TLS certificate is verified
// against unless a server name is set.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// explainTLS adds what to do to a TLS verification failure.
func explainTLS(err error) error {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua):
		return fmt.Errorf("%w (the broker's certificate is not signed by a CA we trust: give its CA with --tls-ca)", err)
	case errors.As(err, &hn):
		return fmt.Errorf("%w (the broker's certificate is for another name: --tls-server-name NAME)", err)
	case errors.As(err, &ci), errors.As(err, &ve):
		return fmt.Errorf("%w (TLS: the broker's certificate was refused)", err)
	}
	return err
}

// CheckURL checks an AMQP URL before anything is dialled (name labels it
// in the error, e.g. "--amqp"): scheme amqp or amqps, a host, a numeric
// port, and what amqp091 accepts. The error never carries the password
// and wraps broker.ErrBadURL.
func CheckURL(name, rawURL string) error {
	if _, err := broker.CheckURL(name, rawURL, "amqp", "amqps"); err != nil {
		return err
	}
	if _, err := amqp.ParseURI(rawURL); err != nil {
		return fmt.Errorf("%s %s: %w: RabbitMQ's URL rules refuse it (want amqp://user:password@host:port/vhost, special characters %%-encoded)", name, Redact(rawURL), broker.ErrBadURL)
	}
	return nil
}

// Redact returns rawURL with any password removed, e.g.
// "amqp://guest:guest@localhost:5672/" becomes "amqp://guest@localhost:5672/".
// It never returns the password, even for a URL that does not parse; a
// comma-separated list is redacted URL by URL.
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, ",") {
		return broker.Redact(rawURL)
	}
	parts := strings.Split(rawURL, ",")
	for i, u := range parts {
		parts[i] = broker.Redact(strings.TrimSpace(u))
	}
	return strings.Join(parts, ",")
}
