package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"oms-sim/engine"
)

// Styles is every style the dashboard draws with. Components receive a
// pointer to one shared Styles; none of them builds its own.
type Styles struct {
	// NoColor is set when the styles carry no colour, so meaning must
	// come from symbols and text attributes alone.
	NoColor bool

	// Title is a panel's header line; TitleFocus the focused panel's.
	Title      lipgloss.Style
	TitleFocus lipgloss.Style
	// Selected is the selected row of the focused panel; SelectedBlur the
	// selected row of a panel without focus.
	Selected     lipgloss.Style
	SelectedBlur lipgloss.Style

	Text   lipgloss.Style
	Muted  lipgloss.Style
	Accent lipgloss.Style
	Good   lipgloss.Style
	Warn   lipgloss.Style
	Bad    lipgloss.Style

	// Brand is the program name in the header.
	Brand lipgloss.Style
	// Bottleneck marks the limiting stage and its reason.
	Bottleneck lipgloss.Style
	// Spark draws sparklines.
	Spark lipgloss.Style
	// Flash is the transient status line; FlashErr when it reports an error.
	Flash    lipgloss.Style
	FlashErr lipgloss.Style
	// Prompt is the inline prompt (rate, filter).
	Prompt lipgloss.Style

	// BarFull and BarEmpty colour the progress bar.
	BarFull  color.Color
	BarEmpty color.Color

	// Help styles the bubbles/help bar and the full help.
	Help help.Styles
}

// DefaultStyles returns the dashboard's styles. With noColor set, no style
// carries a colour: emphasis uses bold, faint, underline and reverse.
func DefaultStyles(noColor bool) Styles {
	if noColor {
		plain := lipgloss.NewStyle()
		hs := help.Styles{
			ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain.Faint(true), Ellipsis: plain.Faint(true),
			FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain,
		}
		return Styles{
			NoColor:      true,
			Title:        plain.Bold(true),
			TitleFocus:   plain.Bold(true).Reverse(true),
			Selected:     plain.Reverse(true),
			SelectedBlur: plain.Underline(true),
			Text:         plain,
			Muted:        plain.Faint(true),
			Accent:       plain.Bold(true),
			Good:         plain,
			Warn:         plain.Bold(true),
			Bad:          plain.Bold(true),
			Brand:        plain.Bold(true),
			Bottleneck:   plain.Bold(true),
			Spark:        plain,
			Flash:        plain.Bold(true),
			FlashErr:     plain.Bold(true).Reverse(true),
			Prompt:       plain.Bold(true),
			BarFull:      lipgloss.NoColor{},
			BarEmpty:     lipgloss.NoColor{},
			Help:         hs,
		}
	}
	var (
		accent = lipgloss.Color("#7D56F4")
		good   = lipgloss.Color("#04B575")
		warn   = lipgloss.Color("#E5C07B")
		bad    = lipgloss.Color("#FF5F87")
		muted  = lipgloss.Color("#767676")
		text   = lipgloss.Color("#DDDDDD")
		white  = lipgloss.Color("#FFFFFF")
		selBg  = lipgloss.Color("#3C3A5C")
	)
	s := lipgloss.NewStyle()
	hs := help.DefaultDarkStyles()
	hs.ShortKey = s.Foreground(accent).Bold(true)
	hs.FullKey = s.Foreground(accent).Bold(true)
	hs.ShortDesc = s.Foreground(muted)
	hs.FullDesc = s.Foreground(text)
	return Styles{
		Title:        s.Bold(true).Foreground(accent),
		TitleFocus:   s.Bold(true).Foreground(white).Background(accent),
		Selected:     s.Foreground(white).Background(selBg).Bold(true),
		SelectedBlur: s.Underline(true),
		Text:         s.Foreground(text),
		Muted:        s.Foreground(muted),
		Accent:       s.Foreground(accent),
		Good:         s.Foreground(good),
		Warn:         s.Foreground(warn),
		Bad:          s.Foreground(bad).Bold(true),
		Brand:        s.Bold(true).Foreground(white).Background(accent).Padding(0, 1),
		Bottleneck:   s.Foreground(bad).Bold(true),
		Spark:        s.Foreground(good),
		Flash:        s.Foreground(warn),
		FlashErr:     s.Foreground(white).Background(bad).Bold(true),
		Prompt:       s.Foreground(accent).Bold(true),
		BarFull:      accent,
		BarEmpty:     muted,
		Help:         hs,
	}
}

// Status styles an order status: good for confirmed, bad for the failure
// endings, plain while open.
func (s *Styles) Status(st engine.Status) lipgloss.Style {
	switch st {
	case engine.StatusConfirmed:
		return s.Good
	case engine.StatusPaymentFailed, engine.StatusRefunded:
		return s.Warn
	case engine.StatusDeadLettered:
		return s.Bad
	}
	return s.Text
}

// Level styles a figure against warning and bad thresholds.
func (s *Styles) Level(v, warnAt, badAt float64) lipgloss.Style {
	switch {
	case v >= badAt:
		return s.Bad
	case v >= warnAt:
		return s.Warn
	}
	return s.Text
}
