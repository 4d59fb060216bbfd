package loadgen

import (
	"encoding/json"
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
				ProductID: ev.Order.ProductID, Quantity: ev.Order.Quantity, UserID: ev.Order.UserID,
				DrawKey: ev.Order.DrawKey}}) // the original's draws: a faithful replay
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

// recordedScenario is a run.scenario event's detail: the scenario file the
// run ran, so a replay re-applies all of it.
type recordedScenario struct {
	File string `json:"file"`
	YAML string `json:"yaml"`
	// Seed and Stages are what the engine ran with at the start, the
	// command line's --seed and --<stage>-… flags included (absent in
	// records of older runs, and Seed when the engine does not say).
	Seed   uint64                        `json:"seed,omitempty"`
	Stages map[string]engine.StageConfig `json:"stages,omitempty"`
}

// ScenarioOf returns the scenario a recorded run ran, parsed from its
// run.scenario event; nil (and no error) when the run recorded none (runs
// recorded before it was stored, or a scenario built in code).
func ScenarioOf(runID string, events []engine.Event) (*scenario.Scenario, error) {
	for _, ev := range events {
		if ev.RunID != runID || ev.Type != engine.EventRunScenario {
			continue
		}
		var rec recordedScenario
		if err := json.Unmarshal([]byte(ev.Detail), &rec); err != nil {
			return nil, fmt.Errorf("run %s: malformed recorded scenario: %w", runID, err)
		}
		sc, err := scenario.Parse(rec.File, []byte(rec.YAML))
		if err != nil {
			return nil, fmt.Errorf("run %s: its recorded scenario no longer parses: %w", runID, err)
		}
		rec.applyEffective(sc)
		return sc, nil
	}
	return nil, nil
}

// ReplayRecorded is ReplayScenario with the recorded run's whole scenario
// re-applied: its seed, catalog and stock, stage settings, order mix,
// broker knobs, retries, actions (their times divided by speed) and
// thresholds. At 1x the original phases stay, so each phase's figures
// compare with the recording's; at another speed the arrivals form one
// phase. A lost-order threshold is added when the scenario had none.
func ReplayRecorded(orig *scenario.Scenario, arrivals []Arrival, speed float64) (*scenario.Scenario, []Arrival, error) {
	one, out, err := ReplayScenario(orig.Name, arrivals, speed)
	if err != nil {
		return nil, nil, err
	}
	re := *orig
	re.Name = one.Name
	re.Description = fmt.Sprintf("%d recorded arrivals of %s at %gx speed, with its catalog, stages, actions and thresholds", len(out), orig.Name, speed)
	if speed != 1 || out[len(out)-1].At >= orig.TotalDuration() {
		re.Phases = one.Phases
	}
	re.Actions = nil
	for _, a := range orig.Actions {
		re.Actions = append(re.Actions, scaleAction(a, speed))
	}
	re.Thresholds = append([]scenario.Threshold(nil), orig.Thresholds...)
	hasLost := false
	for _, t := range re.Thresholds {
		hasLost = hasLost || t.Metric == scenario.MetricLostOrders
	}
	if !hasLost {
		re.Thresholds = append(re.Thresholds, one.Thresholds...)
	}
	return &re, out, nil
}

// scaleAction divides an action's time and duration by speed (a copy; the
// original is not changed).
func scaleAction(a scenario.Action, speed float64) scenario.Action {
	div := func(d scenario.Duration) scenario.Duration { return scenario.Duration(float64(d) / speed) }
	a.At = div(a.At)
	a.Set = scaledCopy(a.Set, func(s *scenario.Set) *scenario.Duration { return &s.For }, div)
	a.Fault = scaledCopy(a.Fault, func(s *scenario.Set) *scenario.Duration { return &s.For }, div)
	a.Stop = scaledCopy(a.Stop, func(s *scenario.Stop) *scenario.Duration { return &s.For }, div)
	a.Pause = scaledCopy(a.Pause, func(p *scenario.Pause) *scenario.Duration { return &p.For }, div)
	a.Backlog = scaledCopy(a.Backlog, func(b *scenario.Backlog) *scenario.Duration { return &b.For }, div)
	return a
}

// scaledCopy returns a copy of *p with the duration forOf names passed
// through div, or nil for nil.
func scaledCopy[T any](p *T, forOf func(*T) *scenario.Duration, div func(scenario.Duration) scenario.Duration) *T {
	if p == nil {
		return nil
	}
	c := *p
	d := forOf(&c)
	*d = div(*d)
	return &c
}
