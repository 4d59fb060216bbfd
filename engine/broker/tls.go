package broker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions are the TLS settings for RabbitMQ connections (AMQP and
// streams), as the --tls-* flags give them. The zero value uses the
// system's roots and the URL's host name.
type TLSOptions struct {
	// CA is a PEM file of the certificate authorities to trust instead
	// of the system's.
	CA string
	// Cert and Key are a PEM client certificate and its key, for brokers
	// that verify their peers (or log in by certificate).
	Cert, Key string
	// ServerName is the name to verify the broker's certificate against,
	// when it differs from the URL's host (e.g. connecting by IP).
	ServerName string
	// InsecureSkipVerify accepts any certificate: encryption without
	// knowing who is at the other end. For tests only; said loudly.
	InsecureSkipVerify bool
}

// IsZero reports whether no option is set.
func (o TLSOptions) IsZero() bool { return o == TLSOptions{} }

// Config builds the tls.Config: nil for the zero options. Its errors name
// the flag and the file; they are configuration errors.
func (o TLSOptions) Config() (*tls.Config, error) {
	if o.IsZero() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName, InsecureSkipVerify: o.InsecureSkipVerify}
	var errs []error
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			errs = append(errs, fmt.Errorf("--tls-ca: %w", err))
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				errs = append(errs, fmt.Errorf("--tls-ca %s: no PEM certificate in it", o.CA))
			}
			c.RootCAs = pool
		}
	}
	switch {
	case o.Cert != "" && o.Key != "":
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", o.Cert, o.Key, err))
		} else {
			c.Certificates = []tls.Certificate{cert}
		}
	case o.Cert != "" || o.Key != "":
		errs = append(errs, errors.New("--tls-cert and --tls-key go together: give both"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// ForHost returns a copy of c for a connection to host: its ServerName
// is host unless one was set. Each connection gets its own copy (amqp091
// writes ServerName into the config it is given). nil stays nil.
func ForHost(c *tls.Config, host string) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}
