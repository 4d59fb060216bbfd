package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC in the environment oms-sim collects at
// gcPercent; with it, the environment's value stays.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "150") // restored after the test
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, tuneGC changed the collector's percent to %d", got)
	}
	os.Unsetenv("GOGC")
	tuneGC()
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC, the collector's percent is %d, want %d", got, gcPercent)
	}
}
