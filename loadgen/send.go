package loadgen

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
	"oms-sim/loadgen/pace"
)

// arrivals yields a load's sends in order: when each is due from the
// load's start and what it sends; false once the schedule is over.
type arrivals func() (at time.Duration, req engine.OrderRequest, ok bool)

// send is the one send loop, for scenarios, replays and manual load
// alike. It walks next until the schedule ends, or until pacing is done
// (then it returns true). An arrival is sent at its time however late the
// loop is, unless a pause covers it (skipped) or every in-flight slot is
// busy (dropped): the schedule never waits for the system under test.
// Sends run under ctx and join wg, which the caller waits for; pacing
// may end before ctx, as a manual rate change does, without cutting short
// the sends in flight.
func (r *Runner) send(ctx, pacing context.Context, wg *sync.WaitGroup, start time.Time, next arrivals) (interrupted bool) {
	record := r.recorder()
	defer record.close()
	for {
		at, req, ok := next()
		if !ok {
			return false
		}
		late, err := pace.SleepUntil(pacing, start, at)
		if err != nil {
			return true
		}
		phase := r.phaseAt(at)
		if r.pausedAt(at) {
			r.book.skip(phase)
			continue
		}
		record.add(start, at, req)
		r.launch(ctx, wg, req, start, at, late, phase)
	}
}

// phaseAt is the scenario phase an arrival due at at counts in; -1
// (the run's total only) for manual load.
func (r *Runner) phaseAt(at time.Duration) int {
	if r.phases == nil {
		return -1
	}
	return r.phases.Index(at)
}

// launch sends one arrival in a goroutine of its own when an in-flight
// slot is free, and counts it dropped when none is: waiting for a slot
// would delay every later arrival and hide the overload.
func (r *Runner) launch(ctx context.Context, wg *sync.WaitGroup, req engine.OrderRequest, start time.Time, at, late time.Duration, phase int) {
	select {
	case r.sem <- struct{}{}:
	default:
		r.book.drop(phase)
		return
	}
	r.recordLateness(late)
	inPhase := r.book.send(phase, at+late, late > r.cfg.LateThreshold)
	r.inflight.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { <-r.sem; r.inflight.Add(-1) }()
		r.sendOne(ctx, req, start.Add(at), phase, inPhase)
	}()
}

// recordLateness notes how far behind its intended time a send left.
func (r *Runner) recordLateness(late time.Duration) {
	r.mu.Lock()
	telemetry.Record(r.lateHist, late)
	r.lateMax = max(r.lateMax, late)
	r.mu.Unlock()
}

// schedule returns the run's sends in order: the scenario's pacer with
// orders from its mix, or the recorded arrivals of a replay.
func (r *Runner) schedule() arrivals {
	if r.cfg.Replay != nil {
		i := 0
		return func() (time.Duration, engine.OrderRequest, bool) {
			if i >= len(r.cfg.Replay) {
				return 0, engine.OrderRequest{}, false
			}
			a := r.cfg.Replay[i]
			i++
			return a.At, a.Req, true
		}
	}
	return r.paced(r.phases)
}

// paced returns p's sends in order, each with an order from the mix.
func (r *Runner) paced(p pace.Pacer) arrivals {
	sched := pace.NewSchedule(p)
	return func() (time.Duration, engine.OrderRequest, bool) {
		at, ok := sched.Next()
		if !ok {
			return 0, engine.OrderRequest{}, false
		}
		return at, r.mix.next(), true
	}
}

// sendOne delivers one order intended at intended (retrying as the
// scenario allows) and counts its final outcome in its phase. Latency
// counts from the intended time, retries included.
func (r *Runner) sendOne(ctx context.Context, req engine.OrderRequest, intended time.Time, phase int, inPhase bool) {
	sent := time.Now()
	a := r.deliver(ctx, req)
	if a.err == nil && a.retries == 0 {
		r.answer.Record(time.Since(sent))
	}
	if a.err != nil {
		o := outcomeFailed
		if errors.Is(a.err, ErrShed) {
			o = outcomeShed
		}
		r.book.done(phase, inPhase, o, a.retries)
		r.mu.Lock()
		if len(r.errs) < 10 {
			r.errs = append(r.errs, a.err.Error())
		}
		r.mu.Unlock()
		return
	}
	now := time.Now()
	r.track.accepted(a.orderID, intended)
	r.book.done(phase, inPhase, outcomeAccepted, a.retries)
	r.mu.Lock()
	telemetry.Record(r.accept, now.Sub(intended))
	r.mu.Unlock()
}

// arrivalRecorder writes the run's arrivals to the event log (for
// replay) from a goroutine of its own, so that the pacer never waits on
// the log and its listeners: emitting inline took the event log's and the
// in-process listeners' locks once per send, contended by every worker's
// events, and made sends late at a fraction of the pipeline's ceiling.
// A nil recorder (recording off) does nothing.
type arrivalRecorder struct {
	ch   chan arrivalRecord
	done chan struct{}
}

type arrivalRecord struct {
	start time.Time
	at    time.Duration
	req   engine.OrderRequest
}

// recorder starts the recorder when the run records its arrivals (a
// scenario's: manual load is not a run to replay); its owner (send)
// closes it, which waits until every arrival is emitted.
func (r *Runner) recorder() *arrivalRecorder {
	if !r.cfg.Record || r.cfg.Scenario == nil {
		return nil
	}
	// A second of arrivals at a high rate: the pacer blocks only if the
	// event log falls that far behind.
	rec := &arrivalRecorder{ch: make(chan arrivalRecord, 16384), done: make(chan struct{})}
	go func() {
		defer close(rec.done)
		for a := range rec.ch {
			o := engine.Order{ProductID: a.req.ProductID, Quantity: a.req.Quantity, UserID: a.req.UserID, DrawKey: a.req.DrawKey}
			r.cfg.Engine.Emit(engine.Event{RunID: r.cfg.RunID, Type: engine.EventArrival, Time: a.start.Add(a.at),
				Detail: strconv.FormatInt(int64(a.at), 10), Order: &o})
		}
	}()
	return rec
}

func (rec *arrivalRecorder) add(start time.Time, at time.Duration, req engine.OrderRequest) {
	if rec != nil {
		rec.ch <- arrivalRecord{start, at, req}
	}
}

func (rec *arrivalRecorder) close() {
	if rec != nil {
		close(rec.ch)
		<-rec.done
	}
}
