package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
)

// TestWhyView (issue 11): w shows, per stage, the M/M/c prediction beside
// the measured wait and Little's law; an overloaded stage is said to grow
// without bound, with its rate; esc goes back. At both sizes.
func TestWhyView(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{140, 45}, {80, 24}} {
		h := newHarness(t, size[0], size[1])
		s := fakeSnapshot()
		// Payment overloaded: 250/s on two workers at 10 ms.
		over, _ := engine.Predict(250, 10*time.Millisecond, 2)
		s.Stages[0].Predicted = &over
		// Email stable: 100/s on two workers at 8 ms, ρ 0.4.
		calm, _ := engine.Predict(100, 8*time.Millisecond, 2)
		s.Stages[2].Predicted = &calm
		s.Stages[2].Little = &engine.LittleCheck{Waiting: 1.2, RateXWait: 1.1, Ratio: 1.09, Consistent: true}
		h.src.setSnapshot(s)
		h.refresh()
		h.press("w")
		v := ansi.Strip(h.view())
		checkScreen(t, v, size[0], size[1])
		for _, want := range []string{"WHY", "grows without bound", "50 more a", "can take 200/s",
			"predicted wait", "measured wait", "Little's law", "✓ agree"} {
			if !strings.Contains(v, want) {
				t.Errorf("%v: why view lacks %q:\n%s", size, want, v)
			}
		}
		h.press("esc")
		if v := ansi.Strip(h.view()); strings.Contains(v, "WHY") || !strings.Contains(v, "STAGES") {
			t.Errorf("%v: esc did not go back to the dashboard:\n%s", size, v)
		}
	}
}

// A phase's {why:STAGE} becomes the stage's live prediction.
func TestExpandWhy(t *testing.T) {
	t.Parallel()
	s := fakeSnapshot()
	over, _ := engine.Predict(250, 10*time.Millisecond, 2)
	s.Stages[0].Predicted = &over
	calm, _ := engine.Predict(50, 10*time.Millisecond, 1)
	s.Stages[2].Predicted = &calm
	for _, c := range []struct{ in, want string }{
		{"watch {why:payment}.", "watch payment's ρ is 125%, so its queue grows 50/s without bound."},
		{"{why:email} — now watch", "email's predicted wait is 10ms (Erlang C), measured 3.0ms — now watch"},
		{"{why:inventory}", "(inventory's prediction comes with its first figures)"},
		{"{why:nosuch} stays", "{why:nosuch} stays"},
	} {
		if got := expandWhy(c.in, s); got != c.want {
			t.Errorf("expandWhy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
