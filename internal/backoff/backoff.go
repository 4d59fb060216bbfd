// Package backoff paces reconnection attempts, for the engine's broker
// sessions and the event log's stream sessions alike: wait Min after a
// loss, double the wait after each failed attempt, up to Max.
package backoff

import (
	"context"
	"time"
)

// The first and the longest wait between attempts.
const (
	Min = 100 * time.Millisecond
	Max = 5 * time.Second
)

// Next is the wait after d, had an attempt failed.
func Next(d time.Duration) time.Duration { return min(d*2, Max) }

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
