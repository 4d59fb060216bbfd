package engine

import (
	"strings"
	"time"
)

// A stage this process does not run (--role) is run by others on the same
// broker; its figures come from their events instead: counts, rates,
// queue wait and service time (the events carry both) and in flight; its
// workers are its queue's consumers, as the broker counts them. Events
// from other processes about a stage this process runs are left out, so a
// stage's figures never mix two sources: its row shows this process's
// workers, whom its keys steer. Which stage an event feeds is its Stage,
// a stage of the route table.

// applyRemote feeds an event of another process into the figures of the
// stage it concerns, if this process does not run that stage.
func (e *Engine) applyRemote(ev Event) {
	if ev.Process == e.cfg.Process {
		return
	}
	s, ok := e.stages[ev.Stage]
	if !ok || e.cfg.HasRole(ev.Stage) {
		return
	}
	st := &s.stats
	service := func() {
		st.handled.Add(1)
		st.inflight.Add(-1)
		if ev.ServiceUS > 0 {
			st.service.Record(time.Duration(ev.ServiceUS) * time.Microsecond)
		}
	}
	switch ev.Type {
	case s.started:
		st.delivered.Add(1)
		st.inflight.Add(1)
		if ev.WaitUS > 0 {
			st.queueWait.Record(time.Duration(ev.WaitUS) * time.Microsecond)
		}
	case EventRetried:
		st.failed.Add(1)
		st.retried.Add(1)
		service()
	case EventDeadLettered:
		st.dead.Add(1)
		service()
	case EventRedelivered:
		st.redelivered.Add(1)
		if strings.HasPrefix(ev.Detail, InboxDetail) {
			st.inboxHits.Add(1)
		}
	default:
		// An outcome of the stage's handler (paid, stock.taken, …): the
		// one event a worker logs with a service time besides retries
		// and dead letters.
		if ev.ServiceUS > 0 {
			st.ok.Add(1)
			st.countOutcome(ev.Type)
			service()
		}
	}
}
