package engine

import (
	"math"
	"time"
)

// Prediction is what queueing theory expects of a stage from what was
// measured: its arrival rate λ, mean service time 1/μ and workers c, taken
// as an M/M/c queue (Poisson arrivals, exponential service, c servers,
// first come first served). Erlang's C formula gives the probability that
// an arrival waits and the mean wait in the queue. Real stages are not
// quite M/M/c — service times may be lognormal or constant, prefetch hands
// a worker messages before it is free — so the prediction sits beside the
// measured wait, never in its place.
type Prediction struct {
	// Lambda is the arrival rate (per second), Service the mean service
	// time, Workers the servers c.
	Lambda  float64       `json:"lambda"`
	Service time.Duration `json:"service_ns"`
	Workers int           `json:"workers"`
	// Rho is the offered load per worker, λ ÷ (c μ).
	Rho float64 `json:"rho"`
	// Stable is Rho < 1. Otherwise no steady state exists: the queue grows
	// by Growth messages a second (λ − c μ) for as long as it lasts, and
	// PWait and Wait are not given.
	Stable bool    `json:"stable"`
	Growth float64 `json:"growth_per_s,omitempty"`
	// PWait is Erlang C: the probability that an arrival finds every
	// worker busy and waits.
	PWait float64 `json:"p_wait"`
	// Wait is the predicted mean queue wait, C ÷ (c μ − λ).
	Wait time.Duration `json:"wait_ns"`
	// QueueLen is the predicted mean number waiting, λ × Wait (Little).
	QueueLen float64 `json:"queue_len"`
}

// Predict returns the M/M/c prediction for arrival rate lambda (per
// second), mean service time and c workers; ok is false when there is
// nothing to predict from (no workers, or no service time measured yet).
func Predict(lambda float64, service time.Duration, c int) (p Prediction, ok bool) {
	if c < 1 || service <= 0 || lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return Prediction{}, false
	}
	mu := 1 / service.Seconds()
	a := lambda / mu // offered load in erlangs
	p = Prediction{Lambda: lambda, Service: service, Workers: c, Rho: a / float64(c)}
	if p.Rho >= 1 {
		p.Growth = lambda - float64(c)*mu
		return p, true
	}
	p.Stable = true
	p.PWait = ErlangC(c, a)
	wq := p.PWait / (float64(c)*mu - lambda)
	p.Wait = time.Duration(wq * float64(time.Second))
	p.QueueLen = lambda * wq
	return p, true
}

// ErlangC is the probability of waiting in an M/M/c queue with c servers
// and offered load a = λ/μ erlangs (a < c). It is computed from Erlang B
// by its recurrence, B(0) = 1, B(k) = a B(k−1) ÷ (k + a B(k−1)), which
// stays in [0, 1] for any c (the textbook sum of a^k/k! overflows), and
// C = B ÷ (1 − ρ (1 − B)) with ρ = a/c.
func ErlangC(c int, a float64) float64 {
	if c < 1 || a <= 0 {
		return 0
	}
	rho := a / float64(c)
	if rho >= 1 {
		return 1
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b / (1 - rho*(1-b))
}

// LittleCheck compares the two sides of Little's law for a stage's queue:
// the messages measured waiting (L) against arrival rate × measured mean
// queue wait (λ W). In a stable queue they agree; a queue that is filling
// or draining leads or lags λ W.
type LittleCheck struct {
	Waiting    float64 `json:"waiting"`     // L: ready in the broker + prefetched, not yet started
	RateXWait  float64 `json:"rate_x_wait"` // λ × W, W the recent mean queue wait
	Ratio      float64 `json:"ratio"`       // L ÷ λW (0 when λW is 0)
	Consistent bool    `json:"consistent"`  // within a factor of 1.5, or both under 1 message
}

// checkLittle fills a LittleCheck.
func checkLittle(waiting, lambda float64, wait time.Duration) LittleCheck {
	l := LittleCheck{Waiting: waiting, RateXWait: lambda * wait.Seconds()}
	if l.RateXWait > 0 {
		l.Ratio = waiting / l.RateXWait
	}
	l.Consistent = (waiting < 1 && l.RateXWait < 1) || (l.Ratio >= 1/1.5 && l.Ratio <= 1.5)
	return l
}

// predict sets a stage's prediction and Little's law check from its
// measured figures. Waiting counts the queue's ready messages plus those
// a worker holds beyond the one it works on (prefetched, or awaiting their
// outgoing confirm), which the measured queue wait also includes.
func predict(st *StageSnapshot, q QueueSnapshot) {
	if p, ok := Predict(st.ArrivalRate, st.ServiceRecent.Mean, st.Running); ok {
		st.Predicted = &p
	}
	if st.QueueWaitRecent.Count > 0 {
		waiting := float64(q.Ready) + float64(max(0, int(st.InFlight)-st.Running))
		l := checkLittle(waiting, st.ArrivalRate, st.QueueWaitRecent.Mean)
		st.Little = &l
	}
}
