package streamlog

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
)

// Tracing one order. Its id is a UUIDv7 (engine's newOrderID), which
// carries the millisecond it was made: the reader attaches to the stream
// at that time less TraceMargin (a stream offset by timestamp) and stops
// TraceTail after the order's last event, or TraceWindow after its time,
// or at the end of the stream — so a trace costs what the order's own
// minutes of traffic cost, however much the stream holds.
const (
	// TraceMargin is read before the order's time. The order's events
	// are all logged after its id was made, so it covers only the skew
	// between the clock that made the id and the broker's, which stamps
	// the chunks (NTP keeps it to milliseconds). Every second of it costs
	// a second of the whole pipeline's events.
	TraceMargin = time.Second
	// TraceTail is read after the order's last event: other processes'
	// events reach the stream up to a producer linger (100 ms) late.
	TraceTail = 500 * time.Millisecond
	// DefaultTraceWindow bounds a trace of an order that never ended.
	DefaultTraceWindow = 10 * time.Minute
)

// ErrNotTimeOrdered is wrapped by OrderTime for an id that is not a
// UUIDv7.
var ErrNotTimeOrdered = errors.New("not a UUIDv7")

// OrderTime returns the time an order id was made, if it is a UUIDv7.
func OrderTime(id string) (time.Time, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 || u.Version() != 7 {
		return time.Time{}, ErrNotTimeOrdered
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec), nil
}

// Last reports whether ev is an order's last event: the confirmation
// email, a declined or refund notice sent, or the dead letter.
func Last(ev engine.Event) bool {
	switch ev.Type {
	case engine.EventConfirmed, engine.EventEmailSent, engine.EventDeadLettered:
		return true
	}
	return false
}

// TraceOrder returns the events of order id in stream order. For a UUIDv7
// id it reads from the id's time less TraceMargin until TraceTail after
// the order's last event, or window after the id's time (window <= 0:
// DefaultTraceWindow). For any other id it cannot know the time: it
// reads from since ago (since <= 0: the whole stream) until TraceTail
// after the last event or the end. Either way it stops at the end of the
// stream as it was when called, and decodes only lines naming the id.
func TraceOrder(ctx context.Context, cfg Config, id string, since, window time.Duration) ([]engine.Event, error) {
	return Read(ctx, cfg, traceWindow(id, since, window, TraceMargin, TraceTail), matchOrder(id))
}

func matchOrder(id string) func(engine.Event) bool {
	return func(ev engine.Event) bool { return ev.OrderID == id }
}

// traceWindow is TraceOrder's window, with its margin and tail.
func traceWindow(id string, since, window, margin, tail time.Duration) Window {
	w := Window{Needle: needle(id), Stop: func(ev engine.Event) time.Time {
		if Last(ev) {
			return ev.Time.Add(tail)
		}
		return time.Time{}
	}}
	if t, err := OrderTime(id); err == nil {
		if window <= 0 {
			window = DefaultTraceWindow
		}
		w.From, w.Until = t.Add(-margin), t.Add(window)
	} else if since > 0 {
		w.From = time.Now().Add(-since)
	}
	return w
}

// needle is what an event line naming id contains, as JSON writes it, or
// nil when the id has characters JSON may escape (then every line is
// decoded).
func needle(id string) []byte {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return nil
		}
	}
	if id == "" {
		return nil
	}
	return []byte(`"` + id + `"`)
}
