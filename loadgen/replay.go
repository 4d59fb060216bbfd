package loadgen

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/scenario"
)

// ArrivalsOf extracts a run's recorded arrivals from its events, in
// schedule order. The scenario name comes from its run.started event.
func ArrivalsOf(runID string, events []engine.Event) (name string, arrivals []Arrival, err error) {
	for _, ev := range events {
		if ev.RunID != runID {
			continue
		}
		switch ev.Type {
		case engine.EventRunStarted:
			name = ev.Detail
		case engine.EventArrival:
			at, err := strconv.ParseInt(ev.Detail, 10, 64)
			if err != nil || ev.Order == nil {
				return "", nil, fmt.Errorf("run %s: malformed arrival event %+v", runID, ev)
			}
			arrivals = append(arrivals, Arrival{At: time.Duration(at), Req: engine.OrderRequest{
				ProductID: ev.Order.ProductID, Quantity: ev.Order.Quantity, UserID: ev.Order.UserID}})
		}
	}
	if len(arrivals) == 0 {
		return "", nil, fmt.Errorf("run %s: no recorded arrivals (was it run with the stream event log?)", runID)
	}
	sort.SliceStable(arrivals, func(i, j int) bool { return arrivals[i].At < arrivals[j].At })
	return name, arrivals, nil
}

// ReplayScenario turns recorded arrivals into a run: one phase as long as
// the recording (divided by speed) and the arrivals rescaled to it. The
// audit's zero-loss check applies as for any scenario.
func ReplayScenario(name string, arrivals []Arrival, speed float64) (*scenario.Scenario, []Arrival, error) {
	if speed <= 0 {
		return nil, nil, errors.New("speed must be above 0")
	}
	if len(arrivals) == 0 {
		return nil, nil, errors.New("nothing to replay")
	}
	out := make([]Arrival, len(arrivals))
	for i, a := range arrivals {
		out[i] = Arrival{At: time.Duration(float64(a.At) / speed), Req: a.Req}
	}
	// The phase ends just after the last arrival, rounded up to 1 ms.
	d := (out[len(out)-1].At/time.Millisecond + 1) * time.Millisecond
	rate := scenario.Rate(float64(len(out)) / d.Seconds())
	sc := &scenario.Scenario{
		Name:        "replay of " + name,
		Description: fmt.Sprintf("%d recorded arrivals at %gx speed", len(out), speed),
		Phases: []scenario.Phase{{
			Name: "replay", Duration: scenario.Duration(d),
			Rate: scenario.RateSpec{Constant: &rate},
		}},
		Thresholds: []scenario.Threshold{{Metric: scenario.MetricLostOrders, Max: scenario.NumberBound(0)}},
	}
	sc.SetDefaults()
	return sc, out, nil
}
