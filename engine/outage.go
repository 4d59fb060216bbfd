package engine

import (
	"fmt"
	"time"

	"oms-sim/internal/outage"
)

// newOutage follows the engine's broker sessions: the log says once that
// the broker is down (the first session lost) and once that it is back
// (the last one reconnected, with how long it was down); each session's
// loss and each attempt are at debug level. The change log gets one entry
// per outage too (it does not log again).
func (e *Engine) newOutage() *outage.Tracker {
	what := outage.Where("AMQP", e.cfg.Dialer.Describe())
	if e.cfg.BrokerKind == "embedded" {
		what = "the embedded broker"
	}
	t := outage.New(e.log, what)
	t.OnBack(func(downFor time.Duration, sessions int) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.changes.push(Change{Time: time.Now(), Source: "engine",
			Text: fmt.Sprintf("%s back after %v: %d sessions reconnected; topology re-declared", what, downFor.Round(time.Millisecond), sessions)})
	})
	return t
}
