// Package capacity finds the highest arrival rate an order pipeline
// sustains under a service-level objective: it offers constant-rate probes,
// ramping the rate geometrically while they pass and bisecting between the
// last pass and the first failure, and reports the curve and the knee.
//
// A probe is one constant-rate phase run by loadgen.Runner, so it is paced,
// measured and audited exactly like a scenario run; an SLO is a scenario
// threshold (scenario.Threshold) written on the command line.
package capacity
