package streamlog

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"oms-sim/engine/broker"
)

// ErrUnreachable is wrapped by Open, Ping and ReadBack when no stream
// listener answers at the URL.
var ErrUnreachable = errors.New("stream broker unreachable")

// PingTimeout bounds Ping when ctx has no earlier deadline.
const PingTimeout = 3 * time.Second

// Stream protocol constants Ping needs (the client does not export them).
const (
	cmdPeerProperties  = 0x0011
	respPeerProperties = 0x8011
	responseOK         = 1
)

// Ping checks that a stream listener answers at rawURL, or at one of
// the URLs of a comma-separated list: it connects and exchanges the
// protocol's first frame (peer properties), without authenticating. A
// closed port, a timeout or a listener that is not the stream protocol
// (e.g. AMQP on 5672) gives an error wrapping ErrUnreachable.
func Ping(ctx context.Context, rawURL string) error { return PingTLS(ctx, rawURL, nil) }

// PingTLS is Ping with the TLS configuration of rabbitmq-stream+tls://
// URLs (nil: the system's roots).
func PingTLS(ctx context.Context, rawURL string, tlsConf *tls.Config) error {
	if _, err := parseURLs(rawURL); err != nil {
		return err
	}
	var errs []error
	for _, u := range broker.SplitURLs(rawURL) {
		err := ping1(ctx, u, tlsConf)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func ping1(parent context.Context, rawURL string, tlsConf *tls.Config) error {
	ctx := parent
	ep, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	fail := func(err error) error {
		if cerr := parent.Err(); cerr != nil {
			// Cut short by the caller, not by the broker: say so.
			return fmt.Errorf("%w: %s: %w", ErrUnreachable, redact(rawURL), cerr)
		}
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, redact(rawURL), err)
	}
	var conn net.Conn
	if ep.tls {
		d := tls.Dialer{Config: tlsFor(tlsConf, ep.host)}
		conn, err = d.DialContext(ctx, "tcp", ep.addr())
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", ep.addr())
	}
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	if _, err := conn.Write(peerPropertiesFrame("oms-sim ping")); err != nil {
		return fail(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return fail(fmt.Errorf("read: %w", err))
	}
	if string(size[:]) == "AMQP" {
		return fail(errors.New("an AMQP listener answered, not the stream protocol"))
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 10 || n > 1<<20 {
		return fail(fmt.Errorf("frame of %d bytes: not the stream protocol", n))
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(conn, frame); err != nil {
		return fail(fmt.Errorf("read: %w", err))
	}
	key := binary.BigEndian.Uint16(frame[0:2])
	code := binary.BigEndian.Uint16(frame[8:10])
	if key != respPeerProperties || code != responseOK {
		return fail(fmt.Errorf("answer key %#x code %d: not the stream protocol", key, code))
	}
	return nil
}

// peerPropertiesFrame encodes a PeerProperties request (key 0x0011,
// version 1, correlation id 1) carrying a connection name.
func peerPropertiesFrame(name string) []byte {
	props := [][2]string{{"connection_name", name}}
	body := binary.BigEndian.AppendUint16(nil, cmdPeerProperties)
	body = binary.BigEndian.AppendUint16(body, 1)
	body = binary.BigEndian.AppendUint32(body, 1)
	body = binary.BigEndian.AppendUint32(body, uint32(len(props)))
	for _, kv := range props {
		for _, s := range kv {
			body = binary.BigEndian.AppendUint16(body, uint16(len(s)))
			body = append(body, s...)
		}
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}
