package loadgen

import (
	"fmt"
	"slices"

	"oms-sim/engine"
)

// StageWait is one stage's queue wait over one phase: the M/M/c (Erlang C)
// prediction the engine makes each second from the measured arrival rate,
// mean service time and workers, beside the measured recent mean queue
// wait — each the median of the phase's once-a-second samples.
type StageWait struct {
	Stage string  `json:"stage"`
	Rho   float64 `json:"rho"` // median offered load ρ
	// PredictedMs and MeasuredMs are medians over the seconds with ρ < 1
	// (a steady state exists); 0 when there were none.
	PredictedMs float64 `json:"predicted_wait_ms"`
	MeasuredMs  float64 `json:"measured_wait_ms"`
	Samples     int     `json:"samples"`
	// Unstable counts the seconds with ρ ≥ 1: no prediction — the queue
	// grew by GrowthPerS (median λ − cμ) a second.
	Unstable   int     `json:"unstable_samples"`
	GrowthPerS float64 `json:"growth_per_s,omitempty"`
}

// waitTally collects one phase's samples, by stage.
type waitTally struct {
	stages []string
	by     map[string]*waitSamples
}

type waitSamples struct {
	rho, pred, meas, growth []float64
}

// add takes one snapshot's predictions and measured waits.
func (w *waitTally) add(snap engine.Snapshot) {
	if w.by == nil {
		w.by = map[string]*waitSamples{}
	}
	for _, st := range snap.Stages {
		p := st.Predicted
		if p == nil || st.Paused || p.Lambda <= 0 {
			continue
		}
		s := w.by[st.Name]
		if s == nil {
			s = &waitSamples{}
			w.by[st.Name] = s
			w.stages = append(w.stages, st.Name)
		}
		s.rho = append(s.rho, p.Rho)
		switch {
		case !p.Stable:
			s.growth = append(s.growth, p.Growth)
		case st.QueueWaitRecent.Count > 0:
			s.pred = append(s.pred, ms(p.Wait))
			s.meas = append(s.meas, ms(st.QueueWaitRecent.Mean))
		}
	}
}

// result is the phase's StageWaits, in the order the stages were seen.
func (w *waitTally) result() []StageWait {
	var out []StageWait
	for _, name := range w.stages {
		s := w.by[name]
		out = append(out, StageWait{Stage: name, Rho: median(s.rho), PredictedMs: median(s.pred), MeasuredMs: median(s.meas),
			Samples: len(s.pred), Unstable: len(s.growth), GrowthPerS: median(s.growth)})
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// waitRows are the text report's rows of predicted against measured
// queue wait, a row per phase and stage that had load.
func waitRows(phases []PhaseReport) [][]string {
	var rows [][]string
	for _, ph := range phases {
		for _, w := range ph.Waits {
			if w.Rho < 0.05 {
				continue // idle: nothing to predict
			}
			pred, meas, ratio := "-", "-", "-"
			if w.Samples > 0 {
				pred, meas = fmt.Sprintf("%.2fms", w.PredictedMs), fmt.Sprintf("%.2fms", w.MeasuredMs)
				if w.PredictedMs > 0 {
					ratio = fmt.Sprintf("%.2f", w.MeasuredMs/w.PredictedMs)
				}
			}
			grows := ""
			if w.Unstable > 0 {
				grows = fmt.Sprintf("%d s at ρ ≥ 1: queue grew ~%.0f/s", w.Unstable, w.GrowthPerS)
			}
			rows = append(rows, []string{ph.Name, w.Stage, fmt.Sprintf("%.0f%%", w.Rho*100), pred, meas, ratio, grows})
		}
	}
	return rows
}
