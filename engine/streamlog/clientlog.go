package streamlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/logs"
)

// SetClientLogger sends the stream client's own log lines (by default
// printed to stderr with the standard log package) to l. The client has
// one logger per process, so main calls this once, before Open; a TUI
// that owns the terminal must.
func SetClientLogger(l *slog.Logger) {
	logs.SetLogger(clientLogger{l.With("component", "rabbitmq-stream-client")})
}

// clientLogger adapts slog to the client's printf-style Logger.
type clientLogger struct{ l *slog.Logger }

func (c clientLogger) log(level slog.Level, format string, v ...any) {
	if !c.l.Enabled(context.Background(), level) {
		return
	}
	msg := fmt.Sprintf(format, v...)
	// Closing a connection, the client answers the broker's close frame
	// on the socket it has just shut and reports that as an error, every
	// time: it is not one.
	if level == slog.LevelError && strings.Contains(msg, "use of closed network connection") {
		level = slog.LevelDebug
	}
	c.l.Log(context.Background(), level, msg)
}

func (c clientLogger) Info(format string, v ...any)  { c.log(slog.LevelInfo, format, v...) }
func (c clientLogger) Error(format string, v ...any) { c.log(slog.LevelError, format, v...) }
func (c clientLogger) Debug(format string, v ...any) { c.log(slog.LevelDebug, format, v...) }
func (c clientLogger) Warn(format string, v ...any)  { c.log(slog.LevelWarn, format, v...) }
