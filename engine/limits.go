package engine

import "time"

// Limits the engine enforces on every change, whichever way it comes:
// flags, a scenario (its validator uses them too), PATCH /api/stages,
// restock, the dashboard's keys. They keep one request from exhausting
// the process's memory or overflowing a count; each is named in the
// error that enforces it. StageConfig.Apply enforces the stage knobs'.
const (
	// MaxWorkers bounds a stage's workers.
	MaxWorkers = 1000
	// MaxPrefetch is AMQP's largest prefetch count (16 bits).
	MaxPrefetch = 65535
	// MaxStageInFlight bounds workers × prefetch of a stage: the
	// deliveries it may hold unacknowledged at once, for each of which a
	// worker keeps an ack slot. At the bound, about 2.4 MB of slots.
	MaxStageInFlight = 100_000
	// MaxServiceTime bounds every duration of a stage's service-time
	// distribution.
	MaxServiceTime = time.Hour
	// MaxStock bounds a product's stock, so that restocking never
	// overflows it.
	MaxStock = 1_000_000_000_000
	// MaxRestock bounds one restock's quantity.
	MaxRestock = 1_000_000_000
	// MaxIdempotencyKeys bounds the Idempotency-Keys remembered (about
	// 200 bytes each: 200 MB at the bound).
	MaxIdempotencyKeys = 1_000_000
)
