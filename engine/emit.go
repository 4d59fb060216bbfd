package engine

import (
	"context"
	"strconv"
	"time"
)

// events logs what a stage does with a delivery: the started event when
// a worker takes it (with its queue wait and attempt), and the outcome's
// event with its service time; it counts the outcome. Retries, dead
// letters and repeats log their own events where they are decided.
func (s *stage) events(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		started := Event{OrderID: in.order.OrderID, Type: s.started, Stage: s.name, Worker: in.worker, Time: in.arr.at,
			Detail: startedDetail(in.key, in.arr.wait, in.d.Headers), Redone: in.arr.redone}
		if in.arr.wait >= 0 {
			started.WaitUS = max(1, in.arr.wait.Microseconds())
		}
		s.deps.emit(started)
		out, err := next(ctx, in)
		if err != nil {
			return out, err
		}
		if out.event.Type != "" {
			out.event.ServiceUS, out.event.Redone = in.arr.serviceUS(), in.arr.redone
		}
		if in.arr.redone && out.msg.Headers != nil {
			out.msg.Headers[HeaderRedone] = true // its own map (messages.build)
		}
		if !in.deferred {
			s.settle(out)
		}
		return out, nil
	}
}

// settle logs and counts a handled message's outcome: at once, or, in an
// inbox transaction, once it has committed (a rolled-back outcome never
// happened).
func (s *stage) settle(out outcome) {
	if out.event.Type != "" {
		s.deps.emit(out.event)
		s.stats.countOutcome(out.event.Type)
	}
	s.stats.ok.Add(1)
}

// countOutcome counts the outcomes a stage's row tells apart, from the
// outcome's event: this process's workers' and, for a stage run
// elsewhere, other processes' (applyRemote).
func (st *stageStats) countOutcome(typ string) {
	switch typ {
	case EventDeclined:
		st.declined.Add(1)
	case EventOutOfStock:
		st.short.Add(1)
	case EventRefunded:
		st.refunds.Add(1)
	}
}

// startedDetail says what a worker took: "order.created after 1.2ms in
// the queue", ", attempt 2" on a retry.
func startedDetail(key string, wait time.Duration, h map[string]any) string {
	b := make([]byte, 0, 64)
	b = append(b, key...)
	if wait >= 0 {
		b = append(b, " after "...)
		b = append(b, wait.Round(time.Microsecond).String()...)
		b = append(b, " in the queue"...)
	}
	if n, ok := headerInt(h, HeaderAttempt); ok && n > 1 {
		b = append(b, ", attempt "...)
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}
