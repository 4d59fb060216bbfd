// Package benchkit holds what the engine benchmarks share: running the
// engine in a throw-away namespace and removing it afterwards, and reading
// the process's resident memory.
package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine"
)

// Namespace returns a namespace unique to this process, so a benchmark
// never touches the default queues or another run's.
func Namespace() string { return fmt.Sprintf("bench-%d", os.Getpid()) }

// Cleanup deletes every queue and exchange the engine declares in names'
// namespace (work, retry and dead queues; the three exchanges).
func Cleanup(url string, names engine.Names, queueType string) error {
	if names.Namespace == "" {
		return fmt.Errorf("refusing to delete the default namespace")
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	t := names.Topology(queueType, engine.DefaultRetryDelays)
	for _, q := range t.Queues {
		if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
			return fmt.Errorf("cleanup: delete queue %s: %w", q.Name, err)
		}
	}
	for _, x := range t.Exchanges {
		if err := ch.ExchangeDelete(x.Name, false, false); err != nil {
			return fmt.Errorf("cleanup: delete exchange %s: %w", x.Name, err)
		}
	}
	return nil
}

// RSSMiB returns VmRSS from /proc/self/status in MiB (0 if unreadable).
func RSSMiB() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// Progress prints to stderr, once a second until stop is closed, a
// counter's rate and each engine queue's ready/unacked depth and each
// stage's in-flight count.
func Progress(e *engine.Engine, count func() int64, stop <-chan struct{}) {
	last := count()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		snap, now := e.Snapshot(), count()
		var b strings.Builder
		fmt.Fprintf(&b, "done/s %6d", now-last)
		last = now
		for _, q := range snap.Queues {
			fmt.Fprintf(&b, " | %s ready=%d unacked=%d", q.Name, q.Ready, q.Unacked)
		}
		for _, s := range snap.Stages {
			fmt.Fprintf(&b, " | %s in-flight=%d", s.Name, s.InFlight)
		}
		fmt.Fprintln(os.Stderr, b.String())
	}
}
