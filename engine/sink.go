package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"oms-sim/engine/broker"
)

// Sink receives rendered emails.
type Sink interface {
	Send(e Email) error
}

// Email is a notification. Its body is rendered from a text/template when
// a sink asks for it (Body), so a sink that only counts mails costs nothing.
type Email struct {
	To       string
	Subject  string
	OrderID  string
	template string // "confirmed", "declined" or "refunded"
	order    Order
}

// Body renders the email's text.
func (e Email) Body() (string, error) {
	var b bytes.Buffer
	if err := emailTemplates.ExecuteTemplate(&b, e.template, e.order); err != nil {
		return "", fmt.Errorf("render %s email: %w", e.template, err)
	}
	return b.String(), nil
}

// DefaultSMTPPort is the port of an smtp:// sink that names none.
const DefaultSMTPPort = "25"

// DefaultSMTPTimeout bounds one email's whole SMTP exchange (connect,
// greeting, MAIL, RCPT, DATA, QUIT): a server that hangs makes the email
// fail and its message retry, instead of holding a worker (and shutdown)
// for ever. An smtp:// sink's ?timeout= changes it.
const DefaultSMTPTimeout = 10 * time.Second

// ParseSink validates a sink spec: "log", "dir:PATH" or
// "smtp://host[:port][?timeout=D]" (port 25 by default).
func ParseSink(spec string) (string, error) {
	switch {
	case spec == "log":
		return "log", nil
	case strings.HasPrefix(spec, "dir:") && len(spec) > 4:
		return "dir", nil
	case strings.HasPrefix(spec, "smtp://"):
		if _, err := parseSMTP(spec); err != nil {
			return "", err
		}
		return "smtp", nil
	}
	return "", fmt.Errorf("email sink %q: valid are log, dir:PATH, smtp://host:port", broker.Redact(spec))
}

// parseSMTP reads an smtp:// sink spec. Its errors never carry a password
// someone put in the URL.
func parseSMTP(spec string) (smtpSink, error) {
	u, err := broker.CheckURL("email sink", spec, "smtp")
	if err != nil {
		return smtpSink{}, fmt.Errorf("%w (want smtp://host:port)", err)
	}
	if u.User != nil {
		return smtpSink{}, fmt.Errorf("email sink %s: the SMTP sink does not log in; give smtp://host:port of a relay or catcher that takes mail without it", broker.Redact(spec))
	}
	port := u.Port()
	if port == "" {
		port = DefaultSMTPPort
	}
	s := smtpSink{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), timeout: DefaultSMTPTimeout}
	for k, v := range u.Query() {
		switch k {
		case "timeout":
			d, err := time.ParseDuration(v[0])
			if err != nil || d <= 0 || d > time.Hour {
				return smtpSink{}, fmt.Errorf("email sink %s: timeout %q: want a duration up to 1h, like 10s", broker.Redact(spec), v[0])
			}
			s.timeout = d
		default:
			return smtpSink{}, fmt.Errorf("email sink %s: unknown parameter %q (valid: timeout)", broker.Redact(spec), k)
		}
	}
	return s, nil
}

func newSink(spec string, log *slog.Logger) (Sink, error) {
	kind, err := ParseSink(spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "dir":
		dir := strings.TrimPrefix(spec, "dir:")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("email sink: %w", err)
		}
		return dirSink(dir), nil
	case "smtp":
		return parseSMTP(spec)
	}
	return logSink{log: log}, nil
}

type logSink struct{ log *slog.Logger }

func (s logSink) Send(e Email) error {
	if !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return nil
	}
	body, err := e.Body()
	if err != nil {
		return err
	}
	s.log.Debug("email", "to", e.To, "subject", e.Subject, "order_id", e.OrderID, "body", body)
	return nil
}

// dirSink writes one .eml file per email, named after the order.
type dirSink string

func (d dirSink) Send(e Email) error {
	msg, err := rfc822(e)
	if err != nil {
		return err
	}
	name := filepath.Join(string(d), sanitize(e.OrderID)+".eml")
	return os.WriteFile(name, []byte(msg), 0o644)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == ':' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

const fromAddress = "orders@oms-sim.local"

func rfc822(e Email) (string, error) {
	body, err := e.Body()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
		fromAddress, e.To, e.Subject, time.Now().Format(time.RFC1123Z), strings.ReplaceAll(body, "\n", "\r\n")), nil
}

// smtpSink hands each email to a real SMTP server (no auth, no TLS: meant
// for a local catcher such as MailHog or smtp4dev, or a relay that
// accepts mail from this host). Every email is one connection whose whole
// exchange must finish within timeout.
type smtpSink struct {
	addr, host string
	timeout    time.Duration
}

func (s smtpSink) Send(e Email) error {
	msg, err := rfc822(e)
	if err != nil {
		return err
	}
	conn, err := net.DialTimeout("tcp", s.addr, s.timeout)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	defer conn.Close()
	// One deadline over the whole exchange: a server that stops answering
	// fails this email (retried) instead of holding the worker.
	if err := conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("smtp %s: greeting: %w", s.addr, err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("smtp %s: %s: %w", s.addr, what, err)
		}
		return nil
	}
	if err := step("MAIL FROM", c.Mail(fromAddress)); err != nil {
		return err
	}
	if err := step("RCPT TO", c.Rcpt(e.To)); err != nil {
		return err
	}
	w, err := c.Data()
	if err := step("DATA", err); err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return step("DATA", err)
	}
	if err := step("end of DATA", w.Close()); err != nil {
		return err
	}
	return step("QUIT", c.Quit())
}

// emailTemplates are the notification bodies, one per outcome.
var emailTemplates = template.Must(template.New("emails").Funcs(template.FuncMap{
	"cents": func(c int64) string { return fmt.Sprintf("$%d.%02d", c/100, c%100) },
}).Parse(`{{define "confirmed"}}Hello user {{.UserID}},

your order {{.OrderID}} is confirmed: {{.Quantity}} x product {{.ProductID}}, {{cents .AmountCents}} charged.
{{end}}{{define "declined"}}Hello user {{.UserID}},

we could not take payment for order {{.OrderID}} ({{.Reason}}). Nothing was charged.
{{end}}{{define "refunded"}}Hello user {{.UserID}},

product {{.ProductID}} ran out of stock, so order {{.OrderID}} was cancelled and {{cents .AmountCents}} refunded.
{{end}}`))

// renderEmail prepares the notification for a routing key; the body is
// rendered when the sink reads it.
func renderEmail(key string, o Order) (Email, error) {
	name, subject := "confirmed", "Your order is confirmed"
	switch key {
	case KeyPaymentFailed:
		name, subject = "declined", "Payment declined"
	case KeyPaymentRefunded:
		name, subject = "refunded", "Your order was refunded"
	}
	return Email{
		To:       "user" + strconv.Itoa(o.UserID) + "@example.com",
		Subject:  subject + " (" + o.OrderID + ")",
		OrderID:  o.OrderID,
		template: name,
		order:    o,
	}, nil
}
