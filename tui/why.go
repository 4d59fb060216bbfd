package tui

import (
	"fmt"

	"charm.land/lipgloss/v2"

	"oms-sim/engine"
)

// whyView is the "why" screen (w): for each stage, what queueing theory
// predicts from what was measured — the M/M/c queue's probability of
// waiting and mean queue wait (Erlang C) from the arrival rate λ, the mean
// service time and the workers c — beside the measured wait, and Little's
// law checked on the live figures. Above ρ = 1 it says the queue grows
// without bound, and how fast.
type whyView struct {
	st            *Styles
	width, height int
	snap          engine.Snapshot
	hasSnap       bool
}

func newWhyView(st *Styles) whyView { return whyView{st: st} }

func (v *whyView) SetSize(w, h int) { v.width, v.height = w, h }

// Update takes the latest snapshot.
func (v *whyView) Update(s engine.Snapshot) { v.snap, v.hasSnap = s, true }

// View draws the screen.
func (v *whyView) View() string {
	st := v.st
	lines := []string{st.TitleFocus.Render(" WHY ") + " " + st.Muted.Render("predict, then measure: each stage as an M/M/c queue (Erlang C)")}
	if !v.hasSnap {
		return block(append(lines, st.Muted.Render("waiting for figures…")), v.width, v.height)
	}
	for _, s := range v.snap.Stages {
		lines = append(lines, "")
		lines = append(lines, v.stageLines(s)...)
	}
	lines = append(lines, "")
	for _, l := range wrapLines("The model assumes arrivals at random (Poisson) and service times spread like an exponential. "+
		"Constant service times wait about half as long as predicted, long-tailed (lognormal) ones longer; "+
		"prefetch counts a message a worker holds but has not started as waiting; a queue filling or draining is not in a steady state.", v.width, 4) {
		lines = append(lines, st.Muted.Render(l))
	}
	for i := range lines {
		lines[i] = clip(lines[i], v.width)
	}
	return block(lines, v.width, v.height)
}

// stageLines explains one stage in a few lines, each wrapped to the
// width (a small terminal gets more lines, never cut sentences).
func (v *whyView) stageLines(s engine.StageSnapshot) []string {
	st := v.st
	title := st.Title.Render(s.Name)
	if s.Bottleneck {
		title += " " + st.Bottleneck.Render("▲ bottleneck")
	}
	out := []string{title}
	add := func(style lipgloss.Style, text string) {
		for _, l := range wrapLines(text, v.width-2, 3) {
			out = append(out, "  "+style.Render(l))
		}
	}
	p := s.Predicted
	if p == nil {
		add(st.Muted, "no service time measured yet (or no workers): nothing to predict from")
		return out
	}
	capacity := float64(p.Workers) / p.Service.Seconds()
	add(st.Text, fmt.Sprintf("λ %s/s arrive · service %s mean · %d workers → can take %s/s",
		fmtRate(p.Lambda), fmtDur(p.Service), p.Workers, fmtRate(capacity)))
	measured := "no queue wait measured yet"
	if s.QueueWaitRecent.Count > 0 {
		measured = "measured wait " + fmtDur(s.QueueWaitRecent.Mean) + " mean"
	}
	if !p.Stable {
		add(st.Bad, fmt.Sprintf("ρ %s ≥ 100%%: no steady state — the queue grows without bound, %s more a second (λ − workers ÷ service)",
			fmtPct(p.Rho), fmtRate(p.Growth)))
		add(st.Text, measured+" — and rising while ρ stays above 100%")
	} else {
		add(st.Text, fmt.Sprintf("ρ %s: P(wait) %s · predicted wait %s mean", fmtPct(p.Rho), fmtPct(p.PWait), fmtDur(p.Wait)))
		if s.QueueWaitRecent.Count > 0 && p.Wait > 0 {
			measured += fmt.Sprintf(" (%.2f× predicted)", float64(s.QueueWaitRecent.Mean)/float64(p.Wait))
		}
		add(st.Accent, measured)
	}
	if l := s.Little; l != nil {
		mark, style := "✓ agree", st.Good
		if !l.Consistent {
			mark, style = "✗ differ: not a steady state", st.Warn
		}
		add(style, fmt.Sprintf("Little's law: %.1f waiting vs λ × wait = %.1f %s", l.Waiting, l.RateXWait, mark))
	}
	return out
}
