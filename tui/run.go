package tui

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the dashboard on the terminal (alternate screen) until the
// user quits (q or ctrl+c) or ctx ends, and returns nil in both cases.
//
// Quitting only ends the dashboard: the caller then drains the pipeline
// and audits, as a scenario's end would. While it drains the terminal is
// back in its normal mode, so a second ctrl+c arrives as SIGINT; the
// caller should treat that one as "exit at once" (for example by
// cancelling the drain's context from signal.NotifyContext).
//
// Nothing may write to the terminal while Run owns it: send logs to a
// file. opts are extra tea.ProgramOptions (tests pass input and output).
func Run(ctx context.Context, m Model, opts ...tea.ProgramOption) error {
	po := []tea.ProgramOption{tea.WithContext(ctx)}
	if m.opts.NoColor {
		po = append(po, tea.WithColorProfile(colorprofile.ASCII))
	}
	p := tea.NewProgram(m, append(po, opts...)...)
	_, err := p.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // the caller cancelled: its own shutdown follows
	case errors.Is(err, tea.ErrInterrupted):
		return nil // SIGINT while the dashboard ran: quit like ctrl+c
	}
	return fmt.Errorf("dashboard: %w", err)
}
