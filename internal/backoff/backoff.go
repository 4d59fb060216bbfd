// Package backoff paces reconnection attempts, for the engine's broker
// sessions and the event log's stream sessions alike: wait Min after a
// loss, double the wait after each failed attempt, up to Max. Each wait is
// jittered (a random share of its second half is taken off), so that the
// sessions of one process, and many processes, do not all knock on a
// broker that comes back at the same instant.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// The first and the longest wait between attempts.
const (
	Min = 100 * time.Millisecond
	Max = 5 * time.Second
)

// Next is the wait after d, had an attempt failed.
func Next(d time.Duration) time.Duration { return min(d*2, Max) }

// Jitter returns a random wait between d/2 and d.
func Jitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d - rand.N(d/2)
}

// Sleep waits Jitter(d) or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(Jitter(d))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
