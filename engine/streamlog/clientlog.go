package streamlog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/logs"
)

// The stream client logs through one package-level logger that it reads
// without synchronisation and, by default, prints with the standard log
// package — raw lines such as "[warn] - error during Send client close"
// on the terminal of a command or under the dashboard. It is replaced
// once, with an adapter reading the current slog.Logger atomically, so
// SetClientLogger may be called again (tests, several commands in one
// process) while a client goroutine logs.
var (
	clientLog     atomic.Pointer[slog.Logger]
	installClient sync.Once
)

// SetClientLogger sends the stream client's own log lines to l, every one
// at debug level (attribute client_level keeps the client's own): the
// client reports what oms-sim already handles — a connection closed while
// closing, a response for a consumer just removed — and oms-sim says what
// matters in its own words. So they appear only with --log-level debug,
// in the log file or on stderr. nil discards them.
func SetClientLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	clientLog.Store(l.With("component", "rabbitmq-stream-client"))
	installClient.Do(func() { logs.SetLogger(clientLogger{}) })
}

func init() {
	// Until main says otherwise, nothing of the client's reaches the
	// terminal.
	SetClientLogger(nil)
}

// clientLogger adapts slog to the client's printf-style Logger.
type clientLogger struct{}

func (clientLogger) log(level string, format string, v ...any) {
	l := clientLog.Load()
	if !l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.Debug(fmt.Sprintf(format, v...), "client_level", level)
}

func (c clientLogger) Info(format string, v ...any)  { c.log("info", format, v...) }
func (c clientLogger) Error(format string, v ...any) { c.log("error", format, v...) }
func (c clientLogger) Debug(format string, v ...any) { c.log("debug", format, v...) }
func (c clientLogger) Warn(format string, v ...any)  { c.log("warn", format, v...) }
