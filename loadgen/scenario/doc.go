// Package scenario owns the scenario file format of oms-sim: the Go types,
// strict decoding with positions, defaults and validation.
//
// A scenario file is YAML:
//
//	name: burst                      # defaults to the file name
//	description: Quiet traffic, a 10x burst, and recovery.
//	seed: 42                         # same seed, same run
//	stages:                          # overrides of the engine's defaults
//	  payment:   {workers: 4, prefetch: 20, service_time: {dist: lognormal, median: 4ms, p99: 30ms}, decline_rate: 0.02}
//	  email:     {workers: 2, service_time: {dist: constant, value: 8ms}}
//	catalog: {products: 50, stock: 10000, price_cents: {min: 500, max: 9900}}
//	orders:  {product: {dist: zipf, s: 1.2}, quantity: {min: 1, max: 3}, users: 5000}
//	retry:   {max: 3, backoff: 100ms}  # http driver: resend 503s with the same Idempotency-Key
//	phases:
//	  - {name: warm-up, duration: 10s, rate: 50/s}
//	  - {name: ramp,    duration: 30s, rate: {from: 100/s, to: 600/s}}
//	  - {name: stairs,  duration: 30s, rate: {steps: [100/s, 200/s, 300/s], every: 10s}}
//	  - {name: wave,    duration: 60s, rate: {sine: {mean: 300/s, amplitude: 200/s, period: 20s}}}
//	  - {name: spikes,  duration: 60s, rate: {burst: {base: 50/s, peak: 1000/s, every: 20s, for: 2s}}, arrivals: poisson}
//	actions:
//	  - {at: 20s, scale: {stage: payment, workers: 8}}
//	  - {at: 30s, fault: {stage: payment, decline_rate: 1.0, for: 10s}}
//	  - {at: 45s, stop: {stage: inventory, for: 5s}}
//	  - {at: 50s, set: {stage: email, service_time: {dist: constant, value: 50ms}, for: 20s}}
//	  - {at: 60s, restock: {product: 3, quantity: 500}}
//	  - {at: 70s, pause: {for: 5s}}
//	  - {at: 80s, backlog: {max: 500, for: 10s}}
//	thresholds:
//	  - {metric: e2e_p99, max: 500ms}
//	  - {metric: lost_orders, max: 0}
//
// Rates carry a unit (50/s, 3000/m, 100/h); durations are Go durations
// (500ms, 10s, 1m30s). Service-time distributions are constant (value),
// uniform (min, max), normal (mean, stddev), lognormal (median, p99) and
// exponential (mean). Threshold metrics are listed by Metrics.
//
// Anchors, aliases and merge keys work as usual; top-level keys starting
// with x- are ignored, so they can hold anchors to reuse:
//
//	x-fast: &fast {dist: constant, value: 1ms}
//	stages:
//	  inventory: {service_time: *fast}
//	  email:     {service_time: *fast}
//
// Parse reports every problem at once, each as file:line:column: field:
// message, where the message names the valid choices or range. Unknown
// fields are errors, with the valid field names.
package scenario
