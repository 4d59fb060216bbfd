package streamlog

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"oms-sim/internal/brokertest"
	"oms-sim/internal/outage"
	"oms-sim/internal/syncbuf"
)

// TestOutageLogsOnce: the broker closes the Log's connections (producer
// and consumer). At the default level (warn) the log says once that the
// stream is down and once that it is back — not a line per session.
func TestOutageLogsOnce(t *testing.T) {
	t.Parallel()
	vhostURL := testVhost(t)
	u, _ := url.Parse(vhostURL)
	cfg := testConfig(t, vhostURL)
	var out syncbuf.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := openLog(t, cfg)
	stop := appendAlong(l, 5)
	time.Sleep(300 * time.Millisecond)
	closeConnections(t, u.Path[1:])
	brokertest.WaitFor(t, 20*time.Second, "the log reconnected", func() bool {
		s := l.Stats()
		return s.Connected && s.Reconnects >= 2
	})
	where := "stream at " + u.Host
	// The back line waits out the tracker's settling second (a session
	// that notices the close late continues the same outage); wait for it,
	// and as long again for a second outage's lines that must not come.
	brokertest.WaitFor(t, 10*time.Second, "the back line", func() bool { return strings.Contains(out.String(), where+" is back") })
	time.Sleep(outage.DefaultSettle + 300*time.Millisecond)
	stop()
	log := out.String()
	if strings.Count(log, where+" is down") != 1 || strings.Count(log, where+" is back") != 1 || strings.Count(log, "\n") != 2 {
		t.Errorf("log at warn:\n%s\nwant one %q down line and one back line, nothing else", log, where)
	}
}
