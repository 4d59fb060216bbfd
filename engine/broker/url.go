package broker

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SplitURLs splits a comma-separated list of URLs, dropping blanks.
func SplitURLs(raw string) []string {
	var out []string
	for _, u := range strings.Split(raw, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// Redact returns a URL (amqp://, rabbitmq-stream://, …) with any password
// removed, for logs and messages. It never returns the password, even for
// a URL that does not parse or that has an '@' past its host (a password
// with an unescaped '/', '?' or '#' ends the host early, and then the
// rest of it would read as a path).
func Redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Opaque == "" && !strings.Contains(afterHost(u), "@") {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.User(u.User.Username())
			}
		}
		return u.String()
	}
	// Unparseable (e.g. a raw '%' in the password), without "//" (then
	// "user:pass@host" parses as scheme "user"), or with an '@' past the
	// host: cut the userinfo by hand up to the last '@', so that the
	// password still cannot reach a log line.
	scheme, rest := "", rawURL
	if i := strings.Index(rawURL, "://"); i >= 0 {
		scheme, rest = rawURL[:i+3], rawURL[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user := rest[:at]
		if c := strings.IndexAny(user, ":/?#"); c >= 0 {
			user = user[:c]
		}
		rest = user + rest[at:]
	}
	return scheme + rest
}

// afterHost is what follows a parsed URL's host, as written.
func afterHost(u *url.URL) string {
	s := u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return s
}

// ErrBadURL marks a URL that CheckURL refused: a usage error, found
// before anything is dialled.
var ErrBadURL = errors.New("bad URL")

// CheckURL parses a URL the user gave (flag names it, e.g. "--amqp") and
// checks that its scheme is one of schemes, that it has a host, and that a
// port, if any, is a number 1..65535. Its error names the flag and the URL
// without its password, and never quotes the parser's own message, which
// can repeat pieces of the password (a bad %-escape, the text after a ':'
// taken for a port). It wraps ErrBadURL.
func CheckURL(flag, raw string, schemes ...string) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("%s %s: %w: %s", flag, Redact(raw), ErrBadURL, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ee url.EscapeError
		var he url.InvalidHostError
		switch {
		case errors.As(err, &ee):
			return nil, bad("a '%' not followed by two hex digits (write '%' in a user or password as %25)")
		case errors.As(err, &he):
			return nil, bad("an invalid character in the host")
		case strings.Contains(err.Error(), "invalid port"):
			return nil, bad("the port is not a number (a '/', '?', '#' or ':' in a password must be %-encoded, e.g. '/' as %2F)")
		}
		return nil, bad("it does not parse as a URL (%-encode special characters in the user and password)")
	}
	if !slices.Contains(schemes, u.Scheme) {
		return nil, bad(fmt.Sprintf("scheme %q, want %s", u.Scheme, strings.Join(schemes, " or ")))
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, bad("no host (want " + schemes[0] + "://user:password@host:port/…)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("the port must be a number 1..65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, bad("an empty port after ':'")
	}
	if strings.Contains(afterHost(u), "@") {
		return nil, bad("an '@' after the host: a '/', '?' or '#' in the user or password must be %-encoded (e.g. '/' as %2F)")
	}
	return u, nil
}
