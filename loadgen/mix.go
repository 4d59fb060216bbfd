package loadgen

import (
	mrand "math/rand"
	"math/rand/v2"
	"strconv"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// mix draws the orders of a run: product (uniform or zipf), quantity and
// user, deterministically from the scenario's seed. It is drawn in
// schedule order, one order per arrival (paused and dropped ones too), so
// the n-th arrival of every run with the same seed and phases is the same
// order; its draw key "<seed>/<n>" makes the engine's per-order draws
// (service times, errors, decline) the same too.
type mix struct {
	seed     uint64
	n        uint64 // orders drawn so far
	r        *rand.Rand
	zipf     *mrand.Zipf // nil for uniform products
	products int
	qmin     int
	qmax     int
	users    int
}

func newMix(s *scenario.Scenario) *mix {
	m := &mix{
		seed:     s.Seed,
		r:        rand.New(rand.NewPCG(s.Seed, 0x6d6978)),
		products: s.Catalog.Products,
		qmin:     s.Orders.Quantity.Min,
		qmax:     s.Orders.Quantity.Max,
		users:    s.Orders.Users,
	}
	if s.Orders.Product.Dist == scenario.ProductZipf && m.products > 1 {
		// math/rand/v2 has no Zipf; v1's is seeded from the same seed.
		m.zipf = mrand.NewZipf(mrand.New(mrand.NewSource(int64(s.Seed))), s.Orders.Product.S, 1, uint64(m.products-1))
	}
	return m
}

// next returns the next order. Not safe for concurrent use.
func (m *mix) next() engine.OrderRequest {
	var p int
	if m.zipf != nil {
		p = int(m.zipf.Uint64()) + 1
	} else {
		p = 1 + m.r.IntN(max(m.products, 1))
	}
	q := m.qmin
	if m.qmax > m.qmin {
		q += m.r.IntN(m.qmax - m.qmin + 1)
	}
	m.n++
	return engine.OrderRequest{ProductID: p, Quantity: q, UserID: 1 + m.r.IntN(max(m.users, 1)), DrawKey: drawKey(m.seed, m.n)}
}

// drawKey names the n-th arrival (1-based) of a run with seed: the
// Oms-Draw-Key the http driver sends and the draw_key the publish driver
// puts in the order.
func drawKey(seed, n uint64) string {
	b := make([]byte, 0, 24)
	b = strconv.AppendUint(b, seed, 10)
	b = append(b, '/')
	return string(strconv.AppendUint(b, n, 10))
}
