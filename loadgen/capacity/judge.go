package capacity

import (
	"cmp"
	"fmt"
	"time"

	"oms-sim/internal/telemetry"
	"oms-sim/loadgen"
)

// Defaults of Criteria.
const (
	DefaultMinRatio  = 0.98
	DefaultLateShare = 0.02
	// DefaultGrowthShare bounds how much the pipeline's open orders may
	// grow over a probe's second half, as a share of the orders offered
	// in it: a bottleneck at offered load ρ grows its queue by (1 − 1/ρ)
	// of the arrivals, so 5% fails a probe above ρ ≈ 1.05.
	DefaultGrowthShare = 0.05
	// minGrowth is the least growth that counts (a few orders of jitter
	// at low rates are not a trend).
	minGrowth = 5
	// minLate is how many late sends are forgiven whatever the share: a
	// fresh process's first sends open connections.
	minLate = 5
	// DefaultLateP99 is how late the 99th percentile of sends may leave
	// before late sends count against a probe: below it they are the
	// machine's timer jitter, which the latencies already include (they
	// count from the intended send time), not a generator falling behind.
	DefaultLateP99 = 100 * time.Millisecond
)

// Criteria say when a probe passes.
type Criteria struct {
	SLOs []SLO
	// MinRatio is the least share of the offered orders that must leave
	// during the probe, and of those the least share accepted.
	MinRatio float64
	// LateShare is the most sends that may leave late (> 10 ms), as a
	// share of those sent, when the 99th percentile of lateness is over
	// LateP99.
	LateShare float64
	LateP99   time.Duration
	// GrowthShare: see DefaultGrowthShare.
	GrowthShare float64
}

func (c *Criteria) setDefaults() {
	c.MinRatio = cmp.Or(c.MinRatio, DefaultMinRatio)
	c.LateShare = cmp.Or(c.LateShare, DefaultLateShare)
	c.LateP99 = cmp.Or(c.LateP99, DefaultLateP99)
	c.GrowthShare = cmp.Or(c.GrowthShare, DefaultGrowthShare)
}

// Probe is one constant-rate probe: what was offered, what the system did,
// and the verdict.
type Probe struct {
	Rate float64 `json:"offered_rate"` // orders/s offered
	Step string  `json:"step"`         // ramp or bisect
	Pass bool    `json:"pass"`
	// Reasons say why it failed, one per broken rule.
	Reasons     []string `json:"reasons,omitempty"`
	Interrupted bool     `json:"interrupted,omitempty"`
	// SentRate is the orders that left during the probe ÷ its duration;
	// CompletedRate the orders that reached a terminal status during it
	// (not during the drain) ÷ its duration.
	SentRate      float64          `json:"sent_rate"`
	CompletedRate float64          `json:"completed_rate"`
	E2E           telemetry.Millis `json:"e2e"`
	Stages        []StageLoad      `json:"stages"`
	// OpenGrowth is how many more orders were open (accepted, not yet
	// terminal) at the end of the load than halfway through it.
	OpenGrowth int64   `json:"open_growth"`
	Bottleneck string  `json:"bottleneck"`
	DrainMs    float64 `json:"drain_ms"`
	// Report is the probe's full run report (the scenario report schema).
	Report *loadgen.Report `json:"report,omitempty"`
}

// StageLoad is one stage during a probe.
type StageLoad struct {
	Name string `json:"name"`
	// Rho is the highest offered load ρ over 5-second windows that lay
	// wholly inside the probe; RhoMeasured is false when the probe was
	// too short for one, and Rho is then the reading at the probe's end,
	// whose window reaches back before the probe: an underestimate,
	// shown but not judged.
	Rho         float64 `json:"rho"`
	RhoMeasured bool    `json:"rho_measured"`
	PeakQueue   int     `json:"peak_queue"`
}

// observation is what a probe's sampler saw while the load ran.
type observation struct {
	rho       map[string]float64 // stage → highest ρ over windows inside the probe; nil if none fit
	rhoLast   map[string]float64 // stage → ρ at the last reading, whatever its window
	openMid   int64              // open orders halfway through the load
	openEnd   int64              // and at its end
	span      time.Duration      // between those two readings
	completed int64              // orders that reached a terminal status during the load
	load      time.Duration      // how long the load ran
}

// judge turns a probe's report and observation into its verdict.
func judge(rate float64, rep *loadgen.Report, obs observation, c Criteria) Probe {
	c.setDefaults()
	p := Probe{Rate: rate, E2E: rep.E2E, DrainMs: rep.DrainMs, Report: rep, Interrupted: rep.Interrupted,
		OpenGrowth: obs.openEnd - obs.openMid}
	var ph loadgen.PhaseReport
	if len(rep.Phases) > 0 {
		ph = rep.Phases[0]
	}
	p.SentRate = ph.SentRate
	if obs.load > 0 {
		p.CompletedRate = float64(obs.completed) / obs.load.Seconds()
	}
	for _, st := range rep.Stages {
		sl := StageLoad{Name: st.Name, Rho: obs.rhoLast[st.Name], PeakQueue: st.PeakQueue}
		if r, ok := obs.rho[st.Name]; ok {
			sl.Rho, sl.RhoMeasured = r, true
		}
		p.Stages = append(p.Stages, sl)
	}
	fail := func(format string, args ...any) { p.Reasons = append(p.Reasons, fmt.Sprintf(format, args...)) }

	if rep.Interrupted {
		fail("interrupted")
	}
	if a := rep.Audit; a.Lost > 0 || a.Duplicated > 0 {
		fail("%d orders lost, %d duplicated", a.Lost, a.Duplicated)
	}
	if ph.Expected > 0 {
		if r := float64(ph.SentInPhase) / ph.Expected; r < c.MinRatio {
			fail("sent %.1f%% of offered (dropped %d, overdue %d)", 100*r, ph.Dropped, ph.Overdue)
		} else if r := float64(ph.AcceptedInPhase) / float64(max(ph.SentInPhase, 1)); r < c.MinRatio {
			fail("accepted %.1f%% of sent (shed %d, failed %d)", 100*r, ph.Shed, ph.Failed)
		}
	}
	if behind(rep, c) {
		fail("generator behind: %.1f%% of sends late, p99 %s late", 100*float64(rep.LateSends)/float64(rep.Sent), latency(rep.Lateness.Count, rep.Lateness.P99))
	}
	for _, st := range p.Stages {
		if st.RhoMeasured && st.Rho >= 1 {
			fail("%s saturated (ρ %.2f)", st.Name, st.Rho)
		}
	}
	if offered := rate * obs.span.Seconds(); p.OpenGrowth > max(minGrowth, int64(c.GrowthShare*offered)) {
		fail("backlog grew by %d orders in the second half", p.OpenGrowth)
	}
	for _, t := range rep.Thresholds {
		if !t.Pass {
			fail("%s: %s", sloOf(c.SLOs, t.Metric), t.Display)
		}
	}
	p.Pass = len(p.Reasons) == 0
	p.Bottleneck = Bottleneck(p)
	return p
}

// sloOf returns how the user wrote the SLO on metric.
func sloOf(slos []SLO, metric string) string {
	for _, s := range slos {
		if s.Threshold.Metric == metric {
			return s.Expr
		}
	}
	return metric
}

// Bottleneck names what limited a probe: the verdict the run's report
// gives (loadgen.Limit: a stage, the broker, or the generator/API) when
// it names one; otherwise the stage with the highest ρ if it reached 1;
// else "generator/API" when the generator could not send the offered load
// on time or the API refused some of it; else, for a failed probe, the
// stage with the highest ρ (the likeliest limit: a stage just under 1
// queues, and its ρ is a 5-second mean); else "-".
func Bottleneck(p Probe) string {
	if rep := p.Report; rep != nil && rep.Limit != nil {
		switch rep.Limit.Kind {
		case loadgen.LimitStage:
			return rep.Limit.Stage
		case loadgen.LimitBroker:
			return "broker"
		case loadgen.LimitGenerator:
			return "generator/API"
		}
	}
	best, rho := "", 0.0
	for _, st := range p.Stages {
		if st.Rho > rho {
			best, rho = st.Name, st.Rho
		}
	}
	if rho >= 1 {
		return best
	}
	if rep := p.Report; rep != nil && (rep.Dropped > 0 || rep.Shed > 0 || rep.Failed > 0 || behind(rep, Criteria{})) {
		return "generator/API"
	}
	if !p.Pass && best != "" {
		return best
	}
	return "-"
}

// behind reports whether the generator fell behind its schedule: more than
// LateShare of the sends left late and the 99th percentile of lateness is
// over LateP99.
func behind(rep *loadgen.Report, c Criteria) bool {
	c.setDefaults()
	return rep.LateSends > minLate && float64(rep.LateSends) > c.LateShare*float64(rep.Sent) &&
		rep.Lateness.P99 > ms(c.LateP99)
}
