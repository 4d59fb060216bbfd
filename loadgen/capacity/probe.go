package capacity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// Defaults of a Prober.
const (
	DefaultProbe = 20 * time.Second
	// rhoWindow is the window of the engine's offered-load figure ρ
	// (engine/monitor.go's loadWindow): only readings taken this long
	// after a probe starts cover the probe alone.
	rhoWindow = 5 * time.Second
	// sampleEvery is how often a probe reads the engine's snapshot.
	sampleEvery = 250 * time.Millisecond
)

// Prober runs probes against an engine: each is a one-phase scenario at a
// constant rate, run by loadgen.Runner, drained and audited.
type Prober struct {
	Engine loadgen.Engine
	Driver loadgen.Driver
	// Base is the scenario that configured the engine's stages, if any:
	// its seed, catalog, orders mix and retry policy shape the probes'
	// orders; its phases, actions and thresholds are ignored. Nil: the
	// defaults, with stock that never runs out.
	Base   *scenario.Scenario
	Broker engine.BrokerStatus
	// Duration is each probe's load; DefaultProbe when zero.
	Duration time.Duration
	// Warmup, when above zero, is an unjudged load at the first probe's
	// rate before it: a fresh process's first sends open connections and
	// fill pools, which is not the pipeline's capacity.
	Warmup   time.Duration
	Criteria Criteria
	// DrainTimeout bounds each probe's drain (loadgen's default when 0).
	DrainTimeout time.Duration
	MaxInFlight  int
	Logger       *slog.Logger

	warmedUp bool
}

// Scenario returns the one-phase scenario a probe at rate runs.
func (p *Prober) Scenario(rate float64) *scenario.Scenario {
	var s scenario.Scenario
	if p.Base != nil {
		s = *p.Base
	} else {
		s = scenario.Scenario{Seed: 1, Catalog: scenario.Catalog{Stock: scenario.MaxStock}}
	}
	s.Name = "capacity"
	s.Description = "a constant-rate capacity probe"
	r := scenario.Rate(rate)
	d := p.Duration
	if d == 0 {
		d = DefaultProbe
	}
	s.Phases = []scenario.Phase{{Name: "probe " + FormatRate(rate), Duration: scenario.Duration(d), Rate: scenario.RateSpec{Constant: &r}}}
	s.Actions = nil
	s.Thresholds = nil
	for _, slo := range p.Criteria.SLOs {
		s.Thresholds = append(s.Thresholds, slo.Threshold)
	}
	s.SetDefaults()
	return &s
}

// Probe implements ProbeFunc: it offers rate for the probe's duration,
// drains, and judges the run.
func (p *Prober) Probe(ctx context.Context, rate float64) (Probe, error) {
	if p.Engine == nil || p.Driver == nil {
		return Probe{}, errors.New("capacity: prober needs an engine and a driver")
	}
	if p.Warmup > 0 && !p.warmedUp {
		p.warmedUp = true
		w := p.Scenario(rate)
		w.Name, w.Phases[0].Name, w.Phases[0].Duration, w.Thresholds = "capacity-warmup", "warm-up", scenario.Duration(p.Warmup), nil
		r, err := p.runner(w)
		if err != nil {
			return Probe{}, err
		}
		if _, err := r.Run(ctx); err != nil {
			return Probe{}, fmt.Errorf("warm-up: %w", err)
		}
		if ctx.Err() != nil {
			return Probe{Rate: rate, Interrupted: true, Reasons: []string{"interrupted"}}, nil
		}
	}
	sc := p.Scenario(rate)
	r, err := p.runner(sc)
	if err != nil {
		return Probe{}, err
	}
	sctx, stop := context.WithCancel(ctx)
	var (
		wg  sync.WaitGroup
		obs observation
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		obs = p.watch(sctx, sc.TotalDuration())
	}()
	rep, err := r.Run(ctx)
	stop()
	wg.Wait()
	if err != nil {
		return Probe{}, err
	}
	return judge(rate, rep, obs, p.Criteria), nil
}

// runner builds the Runner of one probe's scenario.
func (p *Prober) runner(sc *scenario.Scenario) (*loadgen.Runner, error) {
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("probe scenario: %w", err)
	}
	return loadgen.New(loadgen.Config{
		Scenario: sc, Engine: p.Engine, Driver: p.Driver, Broker: p.Broker,
		DrainTimeout: p.DrainTimeout, MaxInFlight: p.MaxInFlight, Logger: p.Logger,
	})
}

// watch reads the engine's snapshot while a probe's load of length d runs
// (the Runner resets the engine's figures as it starts, within a few
// milliseconds of this): ρ from windows inside the probe, the open orders
// halfway and at the end, and the orders completed meanwhile.
func (p *Prober) watch(ctx context.Context, d time.Duration) observation {
	var obs observation
	start := time.Now()
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	var midAt time.Duration
	haveMid := false
	for {
		select {
		case <-ctx.Done():
			return obs
		case now := <-t.C:
			el := now.Sub(start)
			if el > d {
				return obs
			}
			s := p.Engine.Snapshot()
			if obs.rhoLast == nil {
				obs.rhoLast = map[string]float64{}
			}
			for _, st := range s.Stages {
				obs.rhoLast[st.Name] = st.Utilisation
			}
			if el >= rhoWindow {
				if obs.rho == nil {
					obs.rho = map[string]float64{}
				}
				for _, st := range s.Stages {
					obs.rho[st.Name] = max(obs.rho[st.Name], st.Utilisation)
				}
			}
			if !haveMid && el >= d/2 {
				obs.openMid, midAt, haveMid = s.Orders.Open, el, true
			}
			// The last reading before the load ends is the end.
			obs.openEnd, obs.completed, obs.load = s.Orders.Open, s.Orders.Accepted-s.Orders.Open, el
			if haveMid {
				obs.span = el - midAt
			} else {
				obs.openMid = obs.openEnd
			}
		}
	}
}
