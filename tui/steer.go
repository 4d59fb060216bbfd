package tui

import (
	"fmt"
	"maps"
	"math"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

// Limits the steering keys keep to: the engine's (StageConfig.Apply
// enforces them).
const (
	maxWorkers  = engine.MaxWorkers
	maxPrefetch = engine.MaxPrefetch
	// slowDefault is what s sets a stage with no service time to.
	slowDefault = 50 * time.Millisecond
)

// controlMsg reports a steering call's outcome for the status line.
type controlMsg struct {
	text string
	err  error
	// stage and cfg are the stage's knobs after an UpdateStage.
	stage string
	cfg   *engine.StageConfig
}

// outage is a running payment outage: decline rate 1.0 until a tea.Tick
// restores prev. gen tells the restore tick of a superseded outage to do
// nothing.
type outage struct {
	prev  float64
	until time.Time
	gen   uint64
}

// outageEndMsg ends the outage of generation gen.
type outageEndMsg struct{ gen uint64 }

// updateStageCmd calls Control.UpdateStage off the Update goroutine.
func updateStageCmd(ctl engine.Control, stage string, p engine.StagePatch, what string) tea.Cmd {
	return func() tea.Msg {
		cfg, err := ctl.UpdateStage(controlSource, stage, p)
		if err != nil {
			return controlMsg{err: fmt.Errorf("%s %s: %w", stage, what, err)}
		}
		return controlMsg{text: stage + " " + what, stage: stage, cfg: &cfg}
	}
}

// steerStage handles the keys that change the selected stage; handled is
// false for any other key.
func (m *Model) steerStage(msg tea.KeyPressMsg) (cmd tea.Cmd, handled bool) {
	k := m.keys
	if !key.Matches(msg, k.WorkersUp, k.WorkersDown, k.PrefetchUp, k.PrefetchDown, k.Slow, k.Restore,
		k.ErrorUp, k.ErrorDown, k.DeclineUp, k.DeclineDown, k.StopStage, k.Outage) {
		return nil, false
	}
	if m.ctl == nil {
		m.setFlash("this dashboard is read-only: no control", true)
		return nil, true
	}
	s, ok := m.stages.Selected()
	if key.Matches(msg, k.DeclineUp, k.DeclineDown, k.Outage) {
		s, ok = m.stageNamed(engine.StagePayment)
	}
	if !ok {
		m.setFlash("no stage figures yet", true)
		return nil, true
	}
	if s.Remote {
		m.setFlash(s.Name+" runs in other processes (--role): steer it from theirs", true)
		return nil, true
	}
	c := s.Config
	var p engine.StagePatch
	var what string
	switch {
	case key.Matches(msg, k.WorkersUp, k.WorkersDown):
		n := c.Workers + 1
		if key.Matches(msg, k.WorkersDown) {
			n = c.Workers - 1
		}
		n = min(max(n, 0), maxWorkers)
		p.Workers, c.Workers = &n, n
		what = fmt.Sprintf("workers → %d", n)
	case key.Matches(msg, k.PrefetchUp, k.PrefetchDown):
		n := min(c.Prefetch*2, maxPrefetch)
		if key.Matches(msg, k.PrefetchDown) {
			n = max(c.Prefetch/2, 1)
		}
		p.Prefetch, c.Prefetch = &n, n
		what = fmt.Sprintf("prefetch → %d", n)
	case key.Matches(msg, k.Slow):
		if _, saved := m.slowed[s.Name]; !saved {
			m.slowed = maps.Clone(m.slowed) // copy on write: models are values
			m.slowed[s.Name] = c.ServiceTime
		}
		d := slower(c.ServiceTime)
		p.ServiceTime, c.ServiceTime = &d, d
		what = "service time → " + d.String()
	case key.Matches(msg, k.Restore):
		orig, saved := m.slowed[s.Name]
		if !saved {
			m.setFlash(s.Name+": service time not changed here, nothing to restore", false)
			return nil, true
		}
		m.slowed = maps.Clone(m.slowed)
		delete(m.slowed, s.Name)
		p.ServiceTime, c.ServiceTime = &orig, orig
		what = "service time restored → " + orig.String()
	case key.Matches(msg, k.ErrorUp, k.ErrorDown):
		r := stepRate(c.ErrorRate, key.Matches(msg, k.ErrorUp))
		p.ErrorRate, c.ErrorRate = &r, r
		what = fmt.Sprintf("error rate → %.1f", r)
	case key.Matches(msg, k.DeclineUp, k.DeclineDown):
		r := stepRate(c.DeclineRate, key.Matches(msg, k.DeclineUp))
		p.DeclineRate, c.DeclineRate = &r, r
		what = fmt.Sprintf("decline rate → %.1f", r)
	case key.Matches(msg, k.Outage):
		return m.startOutage(s), true
	case key.Matches(msg, k.StopStage):
		return m.toggleStage(s), true
	}
	// Show the change at once; the next poll confirms it.
	m.setStageConfig(s.Name, c)
	return updateStageCmd(m.ctl, s.Name, p, what), true
}

// slower doubles a service time, or sets slowDefault when there is none.
func slower(d engine.Dist) engine.Dist {
	if d.MeanDuration() <= 0 {
		return engine.Constant(slowDefault)
	}
	for _, f := range []*time.Duration{&d.Value, &d.Min, &d.Max, &d.Mean, &d.Stddev, &d.Median, &d.P99} {
		*f *= 2
	}
	return d
}

// stepRate moves a probability by 0.1, rounded to the step, within 0..1.
func stepRate(r float64, up bool) float64 {
	if up {
		r += 0.1
	} else {
		r -= 0.1
	}
	return min(max(math.Round(r*10)/10, 0), 1)
}

// toggleStage stops a running stage or resumes a stopped one.
func (m *Model) toggleStage(s engine.StageSnapshot) tea.Cmd {
	ctl, name, paused := m.ctl, s.Name, s.Paused
	m.setStagePaused(name, !paused)
	return func() tea.Msg {
		if paused {
			if err := ctl.ResumeStage(controlSource, name); err != nil {
				return controlMsg{err: fmt.Errorf("resume %s: %w", name, err)}
			}
			return controlMsg{text: name + " resumed"}
		}
		if err := ctl.PauseStage(controlSource, name); err != nil {
			return controlMsg{err: fmt.Errorf("stop %s: %w", name, err)}
		}
		return controlMsg{text: name + " stopped (x resumes it)"}
	}
}

// startOutage makes every payment decline for FaultDuration, then
// restores the decline rate it found. Pressing o again during an outage
// extends it.
func (m *Model) startOutage(pay engine.StageSnapshot) tea.Cmd {
	prev := pay.Config.DeclineRate
	if m.outage != nil {
		prev = m.outage.prev
	}
	m.outageGen++
	m.outage = &outage{prev: prev, until: m.opts.Now().Add(m.opts.FaultDuration), gen: m.outageGen}
	c := pay.Config
	c.DeclineRate = 1
	m.setStageConfig(pay.Name, c)
	m.showOutage()
	gen := m.outageGen
	one := 1.0
	return tea.Batch(
		updateStageCmd(m.ctl, pay.Name, engine.StagePatch{DeclineRate: &one},
			fmt.Sprintf("outage: decline rate → 1.0 for %v", m.opts.FaultDuration)),
		tea.Tick(m.opts.FaultDuration, func(time.Time) tea.Msg { return outageEndMsg{gen: gen} }),
	)
}

// showOutage puts the outage (or its end) on screen before the next poll.
func (m *Model) showOutage() {
	m.header.outage, m.header.now = m.outage, m.opts.Now()
	m.stages.outage = m.outage != nil
	m.layout() // the header's notice line comes or goes
}

// endOutage restores the decline rate when gen is the running outage.
func (m *Model) endOutage(gen uint64) tea.Cmd {
	if m.outage == nil || m.outage.gen != gen || m.ctl == nil {
		return nil
	}
	prev := m.outage.prev
	m.outage = nil
	m.showOutage()
	if s, ok := m.stageNamed(engine.StagePayment); ok {
		c := s.Config
		c.DeclineRate = prev
		m.setStageConfig(s.Name, c)
	}
	m.markStale()
	return updateStageCmd(m.ctl, engine.StagePayment, engine.StagePatch{DeclineRate: &prev},
		fmt.Sprintf("outage over: decline rate → %.2f", prev))
}

// loadKey handles the load generator's keys and the API's backlog bound.
func (m *Model) loadKey(msg tea.KeyPressMsg) (cmd tea.Cmd, handled bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Backlog) && k.Backlog.Enabled():
		// The bound in force is the placeholder, not the value: typing
		// a new one must not append to it.
		cur := "off"
		if m.hasSnap && m.snap.Admission.MaxBacklog > 0 {
			cur = fmt.Sprint(m.snap.Admission.MaxBacklog)
		}
		cmd := m.prompt.Open(promptBacklog, "")
		m.prompt.input.Placeholder = "now " + cur + "; e.g. 2000, or 0 for off"
		return cmd, true
	case !k.PauseLoad.Enabled() && !k.StartLoad.Enabled():
		return nil, false
	case key.Matches(msg, k.PauseLoad) && k.PauseLoad.Enabled():
		paused := m.prog != nil && m.prog.Paused
		if m.prog != nil {
			p := *m.prog
			p.Paused = !paused
			m.prog = &p
			m.header.prog = m.prog
		}
		return loadPauseCmd(m.load, m.ctl, paused), true
	case key.Matches(msg, k.StartLoad) && k.StartLoad.Enabled():
		v := ""
		if r := m.currentRate(); r > 0 {
			v = fmt.Sprintf("%g", r)
		}
		return m.prompt.Open(promptRate, v), true
	case key.Matches(msg, k.RateUp, k.RateDown) && k.RateUp.Enabled():
		return m.setRate(stepLoadRate(m.currentRate(), key.Matches(msg, k.RateUp))), true
	}
	return nil, false
}

func loadPauseCmd(load loadgen.Controller, ctl engine.Control, resume bool) tea.Cmd {
	return func() tea.Msg {
		text := "load paused"
		if resume {
			load.Resume()
			text = "load resumed"
		} else {
			load.Pause()
		}
		if ctl != nil {
			ctl.Note(controlSource, text)
		}
		return controlMsg{text: text}
	}
}

// setBacklogCmd changes the API's admission bound.
func setBacklogCmd(ctl engine.Control, n int) tea.Cmd {
	return func() tea.Msg {
		if err := ctl.SetMaxBacklog(controlSource, n); err != nil {
			return controlMsg{err: err}
		}
		if n == 0 {
			return controlMsg{text: "admission control off: the API takes every order"}
		}
		return controlMsg{text: fmt.Sprintf("max backlog → %d: the API sheds while the queues hold more", n)}
	}
}

// setRate starts, changes or (at 0) stops manual load.
func (m *Model) setRate(r float64) tea.Cmd {
	m.manualRate = r
	load := m.load
	return func() tea.Msg {
		if err := load.SetManualRate(r); err != nil {
			return controlMsg{err: fmt.Errorf("load rate %g/s: %w", r, err)}
		}
		if r == 0 {
			return controlMsg{text: "manual load stopped"}
		}
		return controlMsg{text: fmt.Sprintf("manual load → %s/s", fmtRate(r))}
	}
}

// currentRate is the manual rate in force.
func (m *Model) currentRate() float64 {
	if m.prog != nil && m.prog.Manual && m.prog.State == loadgen.StateRunning {
		return m.prog.TargetRate
	}
	return m.manualRate
}

// stepLoadRate steps a rate: by 10 below 20/s, else halving or doubling.
func stepLoadRate(r float64, up bool) float64 {
	switch {
	case up && r < 20:
		return math.Floor(r/10)*10 + 10
	case up:
		return r * 2
	case r <= 20:
		return max(math.Ceil(r/10)*10-10, 0)
	}
	return math.Round(r / 2)
}
