package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the collector's GOGC when the environment sets none (Go's
// default is 100). oms-sim keeps bounded memories that fill up within a
// minute of load (each stage's redelivery memory, the Idempotency-Keys,
// the recent orders): a few hundred MB that every collection marks. With
// one core for oms-sim, each mark phase overloads it for its length and
// the load generator's sends leave late (bench/RESULTS.md §29). A quarter
// of the collections, for a heap that peaks at five times the live one
// instead of twice. GOGC and GOMEMLIMIT in the environment still rule.
const gcPercent = 400

// tuneGC sets gcPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
