package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"oms-sim/engine/broker"
)

// registerTLS registers the --tls-* flags of every command that connects
// to RabbitMQ.
func registerTLS(cmd *cobra.Command, o *broker.TLSOptions) {
	f := cmd.Flags()
	f.StringVar(&o.CA, "tls-ca", "", "PEM file of the CAs to trust for amqps:// and rabbitmq-stream+tls:// (default: the system's)")
	f.StringVar(&o.Cert, "tls-cert", "", "PEM client certificate for TLS connections to RabbitMQ (with --tls-key)")
	f.StringVar(&o.Key, "tls-key", "", "PEM key of --tls-cert")
	f.StringVar(&o.ServerName, "tls-server-name", "", "name to verify the broker's certificate against (default: the URL's host)")
	f.BoolVar(&o.InsecureSkipVerify, "tls-insecure-skip-verify", false, "accept any broker certificate: encrypted, but to whoever answers (tests only; said loudly)")
}

// tlsSetup checks the TLS flags against the URLs they apply to and builds
// the configuration (nil without flags). TLS flags with no amqps:// or
// rabbitmq-stream+tls:// URL are a usage error: they would be ignored.
// It warns on stderr about --tls-insecure-skip-verify.
func tlsSetup(o broker.TLSOptions, urls ...string) (*tls.Config, error) {
	if o.IsZero() {
		return nil, nil
	}
	secure := false
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && (u.Scheme == "amqps" || u.Scheme == "rabbitmq-stream+tls") {
			secure = true
		}
	}
	if !secure {
		return nil, exitWith(exitUsage, errors.New("--tls-* flags need an amqps:// --amqp (or a rabbitmq-stream+tls:// --stream-url); with amqp:// they would be ignored"))
	}
	c, err := o.Config()
	if err != nil {
		return nil, exitWith(exitUsage, err)
	}
	if o.InsecureSkipVerify {
		fmt.Fprintln(os.Stderr, "oms-sim: "+insecureTLSWarning)
	}
	return c, nil
}

const insecureTLSWarning = "WARNING: --tls-insecure-skip-verify: the broker's certificate is NOT verified; anyone between here and the broker can read and change the traffic"

// tlsSetup builds the main command's TLS configuration (see tlsSetup).
func (o runOptions) tlsSetup() (*tls.Config, error) {
	if o.brokerMode == "embedded" {
		return nil, nil
	}
	return tlsSetup(o.tlsOpts, o.amqpURL, o.ev.streamURL)
}

// tlsNote is the broker note of a connection whose certificate is not
// verified: the dashboard header and the report say so.
func (o runOptions) tlsNote() string {
	if o.tlsConf != nil && o.tlsConf.InsecureSkipVerify {
		return insecureTLSWarning
	}
	return ""
}
