package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"oms-sim/engine/broker/embedded"
	"oms-sim/internal/testnet"
)

// mailbox is a real SMTP server (go-smtp) keeping what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []mail
}

type mail struct {
	from string
	to   []string
	data string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

func (m *mailbox) received() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail(nil), m.msgs...)
}

type mailSession struct {
	box *mailbox
	cur mail
}

func (s *mailSession) Reset()        { s.cur = mail{} }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	return nil
}

// serveMail runs a go-smtp server on ln until the test ends.
func serveMail(t *testing.T, ln net.Listener) *mailbox {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns when closed
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return box
}

// TestSMTPSinkDelivers: orders' emails reach a real SMTP server with the
// right envelope and headers.
func TestSMTPSinkDelivers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := serveMail(t, ln)
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *Config) { c.EmailSink = "smtp://" + ln.Addr().String() })
	id := placeOrder(t, e, seedRequest)
	waitStatus(t, e, id, StatusConfirmed)
	msgs := box.received()
	if len(msgs) != 1 {
		t.Fatalf("%d emails received, want 1", len(msgs))
	}
	m := msgs[0]
	if m.from != fromAddress || len(m.to) != 1 || m.to[0] != "user100@example.com" {
		t.Errorf("envelope from %q to %q, want %s to user100@example.com", m.from, m.to, fromAddress)
	}
	for _, want := range []string{"From: " + fromAddress + "\r\n", "To: user100@example.com\r\n", "Subject: Your order is confirmed (" + id + ")\r\n",
		"Content-Type: text/plain; charset=utf-8\r\n", "Date: ", "your order " + id + " is confirmed: 2 x product 1"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("email lacks %q:\n%s", want, m.data)
		}
	}
}

// TestSMTPSinkHungServer: a server that accepts and never answers fails
// the email within the sink's timeout, so the order retries instead of
// the worker blocking; once a working server listens there, it confirms.
func TestSMTPSinkHungServer(t *testing.T) {
	hung := testnet.Hanging(t, "127.0.0.1:0")
	addr := hung.Addr()

	s, err := parseSMTP("smtp://" + addr + "?timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	mail, _ := renderEmail(KeyInventoryUpdated, NewOrder(OrderRequest{ProductID: 1, Quantity: 1, UserID: 7}))
	if err := s.Send(mail); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send to a hung server: %v, want a deadline error", err)
	}

	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *Config) {
		c.EmailSink = "smtp://" + addr + "?timeout=200ms"
		c.MaxAttempts = 50 // keep retrying while the server hangs
		c.RetryDelays = []time.Duration{50 * time.Millisecond}
	})
	id := placeOrder(t, e, seedRequest)
	waitFor(t, 30*time.Second, "the email to be retried", func() bool {
		rec, ok := e.Order(id)
		if !ok {
			return false
		}
		for _, ev := range rec.Events {
			if ev.Type == EventRetried && ev.Stage == StageEmail {
				return true
			}
		}
		return false
	})
	// The server recovers on the same address.
	hung.Stop()
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port of the hung server was taken meanwhile: %v", err)
	}
	box := serveMail(t, ln2)
	rec := waitStatus(t, e, id, StatusConfirmed)
	if n := len(box.received()); n != 1 {
		t.Errorf("%d emails received after the server recovered, want 1 (events %+v)", n, rec.Events)
	}
}

func TestParseSMTPSink(t *testing.T) {
	t.Parallel()
	s, err := parseSMTP("smtp://mail.example")
	if err != nil || s.addr != "mail.example:25" || s.timeout != DefaultSMTPTimeout {
		t.Errorf("smtp://mail.example: %+v %v, want port 25 and the default timeout", s, err)
	}
	if s, err := parseSMTP("smtp://[::1]:1025?timeout=3s"); err != nil || s.addr != "[::1]:1025" || s.timeout != 3*time.Second {
		t.Errorf("smtp://[::1]:1025?timeout=3s: %+v %v", s, err)
	}
	for spec, want := range map[string]string{
		"smtp://h:abc":             "port",
		"smtp://":                  "no host",
		"smtp://h:25?timeout=soon": "timeout",
		"smtp://h:25?tls=1":        "unknown parameter",
		"smtp://u:s3cret@h:25":     "does not log in",
		"smtp://u:s3%zz@h:25":      "bad URL",
	} {
		_, err := ParseSink(spec)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3") {
			t.Errorf("ParseSink(%q) = %v, want an error about %s without the password", spec, err, want)
		}
	}
}
