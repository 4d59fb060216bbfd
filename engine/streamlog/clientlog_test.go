package streamlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/logs"
)

// The stream client's own lines reach our logger at debug level only,
// never the standard logger (the terminal). Not parallel: the client's
// logger is one per process.
func TestClientLogsAtDebugOnly(t *testing.T) {
	defer SetClientLogger(nil)
	var buf bytes.Buffer
	SetClientLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	logs.LogWarn("error during Send client close %s", "x")
	logs.LogError("Error handling command response")
	if buf.Len() != 0 {
		t.Errorf("at --log-level warn the client's lines showed: %q", buf.String())
	}
	SetClientLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logs.LogError("Error handling command response")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "client_level=error") ||
		!strings.Contains(got, "Error handling command response") {
		t.Errorf("at debug: %q", got)
	}
}
