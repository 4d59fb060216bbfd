// Package pace decides when the load generator sends each order.
//
// The schedule is absolute: the n-th send (counting from 0) is due at the
// instant the integral of the offered rate reaches n + ½, measured from the
// start of the run. Sleep error therefore never accumulates, and a sender
// that fell behind is told to send at once until it has caught up. The
// schedule never looks at how the system under test is doing, so a slow
// system does not lower the offered rate (an open model); latency is to be
// measured from the intended send time that the schedule gives.
//
// A Pacer answers vegeta's question, "given the time since the start and
// the sends so far, how long until the next one?". Phases is the Pacer for
// a scenario: one Shape (Constant, Linear, Step, Sine, Burst) per phase,
// chained, each with uniform or Poisson arrivals. Poisson gaps come from a
// math/rand/v2 PCG seeded by the scenario's seed, so a run is repeatable.
// Schedule turns a Pacer into the sequence of intended send times that a
// driver walks through, and SleepUntil waits for the next one and reports
// how late the driver is.
package pace
