package pgstate

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"oms-sim/engine/broker"
)

// ErrBadURL marks a state URL that is not one: a usage error (exit 2),
// found before anything is dialled. It is the broker's (broker.ErrBadURL):
// one test for every URL a user gives.
var ErrBadURL = broker.ErrBadURL

// IsPostgresURL reports whether raw names a PostgreSQL database (the
// postgres:// or postgresql:// scheme), as opposed to "memory".
func IsPostgresURL(raw string) bool {
	l := strings.ToLower(raw)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Redact returns raw without its password, for messages and logs.
func Redact(raw string) string { return broker.Redact(raw) }

// ParseURL checks a postgres:// URL and returns the pool configuration it
// describes. Its errors name flag and the URL without its password, and
// wrap ErrBadURL.
func ParseURL(flag, raw string) (*pgxpool.Config, error) {
	bad := func(why string) error {
		return fmt.Errorf("%s %s: %w: %s", flag, Redact(raw), ErrBadURL, why)
	}
	if !IsPostgresURL(raw) {
		return nil, bad("want memory or a postgres://user:password@host:port/database URL")
	}
	if _, err := broker.CheckURL(flag, raw, "postgres", "postgresql"); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, bad(scrub(parseReason(err), Password(raw)))
	}
	return cfg, nil
}

// parseReason is the driver's reason for refusing a URL, without the
// URL it quotes.
func parseReason(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "cannot parse `") {
		if i := strings.Index(msg, "`: "); i >= 0 {
			return msg[i+3:]
		}
		return "the driver could not parse it"
	}
	return msg
}

// Password returns raw's password, "" when it has none (or does not
// parse: then a message carries no piece of raw anyway). Callers use it
// to check that no output of theirs shows it.
func Password(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// scrub removes every occurrence of the password (and its escaped form)
// from a message: a belt to Redact's braces, for errors of the driver.
func scrub(msg, pw string) string {
	if pw == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, pw, "xxxxx")
	if esc := url.QueryEscape(pw); esc != pw {
		msg = strings.ReplaceAll(msg, esc, "xxxxx")
	}
	return msg
}

// SchemaName is the PostgreSQL schema a namespace's state lives in: "oms"
// for the default namespace, "oms_<namespace>" otherwise, lower case,
// with every character other than a letter, a digit or '_' made '_'. A
// name that had to change (or is long) gets a hash of the namespace, so
// that two namespaces never share a schema.
func SchemaName(namespace string) string {
	if namespace == "" {
		return "oms"
	}
	var b strings.Builder
	for _, r := range strings.ToLower(namespace) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := "oms_" + b.String()
	if b.String() != namespace || len(name) > 50 {
		h := fnv.New32a()
		h.Write([]byte(namespace))
		name = fmt.Sprintf("%s_%08x", name[:min(len(name), 50)], h.Sum32())
	}
	return name
}
