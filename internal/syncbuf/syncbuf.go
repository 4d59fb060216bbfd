// Package syncbuf is an output several goroutines may write while
// another reads it: a process's stderr or a logger's output under test.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer behind a lock. Max, when above 0, keeps only
// the first Max bytes (later writes are accepted and dropped), for
// outputs that may run long.
type Buffer struct {
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p (up to Max) and never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max <= 0 || b.b.Len() < b.Max {
		b.b.Write(p)
	}
	return len(p), nil
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
