package amqpbroker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqp091's own lines reach our logger at debug level only. Not parallel:
// the library's logger is one per process.
func TestClientLogsAtDebugOnly(t *testing.T) {
	defer SetClientLogger(nil)
	var buf bytes.Buffer
	SetClientLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	amqp.Logger.Printf("connection lost: %v\n", "EOF")
	if buf.Len() != 0 {
		t.Errorf("at warn the client's line showed: %q", buf.String())
	}
	SetClientLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	amqp.Logger.Printf("connection lost: %v\n", "EOF")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, `msg="connection lost: EOF"`) {
		t.Errorf("at debug: %q", got)
	}
}
