package engine

import (
	"testing"
	"time"
)

// TestRemoteStageFigures runs a pipeline in one engine and watches it from
// another that runs no stage (--role none), both on one broker and one
// event log, as two processes would share a stream: the watcher's stage
// figures come from the pipeline's events.
func TestRemoteStageFigures(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			d := b.dial(t)
			log := NewMemoryLog()
			ns := testNamespace(t)
			work := startEngineOn(t, d, log, func(c *Config) {
				c.Namespace, c.Process = ns, "worker-process"
				c.Stages = map[string]StageConfig{StageInventory: {Workers: 3, Prefetch: 10}}
			})
			watch := startEngineOn(t, d, log, func(c *Config) {
				c.Namespace, c.Process, c.Roles = ns, "watcher", []string{RoleNone}
			})
			const n = 5
			for range n {
				waitStatus(t, work, placeOrder(t, work, seedRequest), StatusConfirmed)
			}
			waitFor(t, 5*time.Second, "the watcher's figures", func() bool {
				s := watch.Snapshot()
				return s.Stages[2].OK == n && s.Stages[1].Running == 3
			})
			for i, s := range watch.Snapshot().Stages {
				if !s.Remote || s.Handled != n || s.OK != n || s.InFlight != 0 ||
					s.QueueWait.Count != n || s.Service.Count != n {
					t.Errorf("watcher's %s: remote %v handled %d ok %d in flight %d, %d waits and %d service times; want remote, %d each, 0 in flight",
						s.Name, s.Remote, s.Handled, s.OK, s.InFlight, s.QueueWait.Count, s.Service.Count, n)
				}
				if want := []int{2, 3, 2}[i]; s.Running != want {
					t.Errorf("watcher's %s: %d running, want its queue's %d consumers", s.Name, s.Running, want)
				}
			}
			// The process that runs the stages shows its own figures,
			// not a second copy from the log.
			for _, s := range work.Snapshot().Stages {
				if s.Remote || s.OK != n {
					t.Errorf("worker's %s: remote %v ok %d, want local and %d", s.Name, s.Remote, s.OK, n)
				}
			}
		})
	}
}
