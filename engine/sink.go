package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
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

// ParseSink validates a sink spec: "log", "dir:PATH" or "smtp://host:port".
func ParseSink(spec string) (string, error) {
	switch {
	case spec == "log":
		return "log", nil
	case strings.HasPrefix(spec, "dir:") && len(spec) > 4:
		return "dir", nil
	case strings.HasPrefix(spec, "smtp://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("email sink %q: want smtp://host:port", spec)
		}
		return "smtp", nil
	}
	return "", fmt.Errorf("email sink %q: valid are log, dir:PATH, smtp://host:port", spec)
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
		u, _ := url.Parse(spec)
		return smtpSink{addr: u.Host}, nil
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
// for a local catcher such as MailHog or smtp4dev).
type smtpSink struct{ addr string }

func (s smtpSink) Send(e Email) error {
	msg, err := rfc822(e)
	if err != nil {
		return err
	}
	return smtp.SendMail(s.addr, nil, fromAddress, []string{e.To}, []byte(msg))
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
