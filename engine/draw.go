package engine

// What an order's random draw decides; each has its own stream, so a
// change to one knob (say the service-time distribution) leaves the
// others' outcomes as they were.
const (
	drawService uint64 = iota + 1
	drawError
	drawDecline
)

// drawSeed derives the random stream of one decision about one order from
// the run's seed alone: the order id, the stage, the message's routing key,
// its attempt and what is decided. It is a pure function, so the same seed
// and scenario give every order the same service times, errors and
// declines whichever worker or process handles it, in whatever order.
func drawSeed(seed uint64, orderID, stage, key string, attempt int64, what uint64) (uint64, uint64) {
	h := fnv64a(fnv64a(fnv64a(fnvOffset, orderID), "\x00"+stage), "\x00"+key)
	return mix64(seed ^ h), mix64(uint64(attempt)<<8 | what)
}

// drawUniform is the decision's first draw, uniform in [0, 1).
func drawUniform(seed uint64, orderID, stage, key string, attempt int64, what uint64) float64 {
	a, b := drawSeed(seed, orderID, stage, key, attempt, what)
	return float64(mix64(a^b)>>11) / (1 << 53)
}

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// fnv64a continues an FNV-1a hash h over s (without allocating).
func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// mix64 is SplitMix64's finaliser: neighbouring inputs give unrelated
// outputs.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
