package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// The second signal. The first SIGINT or SIGTERM drains: the API stops,
// the workers finish what they hold, the run's report is written. A
// second one ends the process at once, without draining, and says how
// many orders it leaves in the broker: they are safe there (the broker
// requeues what this process held unacknowledged) and finish when a
// pipeline on the same namespace starts again.

// leftInBroker reports what a process ending at once leaves in the
// broker; startPipeline sets it once its engine runs.
var leftInBroker atomic.Pointer[func() (ready, unacked int64)]

func setLeftInBroker(f func() (ready, unacked int64)) { leftInBroker.Store(&f) }

// exitAtOnce ends the process on a second signal, exit code 1 (not
// stopped cleanly), saying what it leaves in the broker.
func exitAtOnce(log *slog.Logger) {
	msg := "second signal: exiting at once, without draining"
	if f := leftInBroker.Load(); f != nil {
		ready, unacked := (*f)()
		msg = fmt.Sprintf("%s; %d orders left in the broker (%d ready in the work queues at the last poll, %d unacknowledged here, which the broker requeues): they are safe there and finish on the next start",
			msg, ready+unacked, ready, unacked)
	}
	fmt.Fprintln(os.Stderr, "oms-sim: "+msg)
	log.Warn(msg)
	os.Exit(exitFailed)
}
