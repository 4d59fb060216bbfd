package amqpbroker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqp091 logs through a package-level Logger it reads without
// synchronisation (a no-op by default). It is set once, to an adapter
// reading the current slog.Logger atomically, so SetClientLogger may be
// called again while a connection's goroutines log.
var (
	clientLog     atomic.Pointer[slog.Logger]
	installClient sync.Once
)

// SetClientLogger sends amqp091's own log lines to l at debug level: the
// engine reports connection losses and reconnects itself, so they appear
// only with --log-level debug, in the log file or on stderr. nil discards
// them.
func SetClientLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	clientLog.Store(l.With("component", "amqp091"))
	installClient.Do(func() { amqp.SetLogger(clientLogger{}) })
}

func init() { SetClientLogger(nil) }

// clientLogger adapts slog to amqp091's Printf Logging.
type clientLogger struct{}

func (clientLogger) Printf(format string, v ...any) {
	l := clientLog.Load()
	if !l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
