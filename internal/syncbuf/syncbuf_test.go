package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWritesAndMax: writers and a reader at once (go test
// -race), every byte kept without Max, only the first Max bytes with it,
// and a write past Max still reports it took everything (an io.Writer
// that fails would stop a process's stderr copy).
func TestConcurrentWritesAndMax(t *testing.T) {
	var all Buffer
	capped := Buffer{Max: 10}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if n, err := all.Write([]byte("ab")); n != 2 || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
				if n, err := capped.Write([]byte("xyz")); n != 3 || err != nil {
					t.Errorf("capped Write = %d, %v", n, err)
				}
				_ = all.String()
			}
		}()
	}
	wg.Wait()
	if got := all.String(); len(got) != 8*100*2 || strings.Trim(got, "ab") != "" {
		t.Errorf("kept %d bytes, want 1600", len(got))
	}
	// Whole writes are kept while under Max: 4 of 3 bytes reach 12.
	if got := capped.String(); len(got) != 12 {
		t.Errorf("capped kept %d bytes (%q), want 12: writes stop once 10 are in", len(got), got)
	}
}
