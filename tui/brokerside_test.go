package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
)

// queuesLines is the queues panel's part of the screen: from its title
// to the stages' title.
func queuesLines(t *testing.T, view string) []string {
	t.Helper()
	var out []string
	in := false
	for _, l := range strings.Split(ansi.Strip(view), "\n") {
		switch {
		case strings.Contains(l, "QUEUES"):
			in = true
		case strings.Contains(l, "STAGES"):
			return out
		}
		if in {
			out = append(out, l)
		}
	}
	t.Fatalf("no queues panel in\n%s", ansi.Strip(view))
	return nil
}

// TestBrokerFiguresInQueuePanel: under the queues, the broker's side of
// this process's connections; m switches the panel to the broker's count
// of every queue (unacked across all consumers, with this process's own
// beside it, publish and deliver rates) and back.
func TestBrokerFiguresInQueuePanel(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []harnessOpt
	}{{"pipeline", nil}, {"watcher", []harnessOpt{asWatcher()}}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 140, 45, tc.opts...)
			lines := queuesLines(t, h.view())
			status := strings.Join(lines, "\n")
			if !strings.Contains(status, "broker: no alarms · our 5 connections: 1 in flow control, none blocked") {
				t.Errorf("no broker status line under the queues:\n%s", status)
			}
			if strings.Contains(status, "BROKER QUEUES") {
				t.Errorf("the broker's view before m:\n%s", status)
			}
			h.press("m")
			lines = queuesLines(t, h.view())
			panel := strings.Join(lines, "\n")
			for _, want := range []string{"BROKER QUEUES", "UNACKED", "OURS", "PUB/s", "DLV/s"} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("broker view's title %q lacks %s", lines[0], want)
				}
			}
			pay := strings.Fields(lines[1])
			// oms.payment  READY 1840  UNACKED 240 (all consumers)  OURS 80  CONS 6  PUB/s 1.0k  DLV/s 930
			if len(pay) < 7 || pay[0] != "oms.payment" || pay[1] != "1840" || pay[2] != "240" || pay[3] != "80" || pay[4] != "6" || pay[5] != "1.0k" || pay[6] != "930" {
				t.Errorf("payment in the broker's view: %q, want oms.payment 1840 240 80 6 1.0k 930", lines[1])
			}
			if !strings.Contains(panel, "1 in flow control") {
				t.Errorf("the broker's view lost the status line:\n%s", panel)
			}
			h.press("m")
			if l := queuesLines(t, h.view())[0]; strings.Contains(l, "BROKER") || !strings.Contains(l, "READY, LAST MINUTE") {
				t.Errorf("m again: title %q, want this process's view back", l)
			}
		})
	}
}

// TestBrokerFiguresUnavailable: with no management API the panel says so
// and why, in both views and at both sizes; an alarm is said at once.
func TestBrokerFiguresUnavailable(t *testing.T) {
	const why = "management API answered 401 Unauthorized"
	for _, size := range [][2]int{{140, 45}, {80, 24}} {
		h := newHarness(t, size[0], size[1])
		snap := fakeSnapshot()
		snap.Broker.Side = engine.BrokerSide{Note: why}
		h.src.setSnapshot(snap)
		h.refresh()
		if size[1] == 45 {
			if v := strings.Join(queuesLines(t, h.view()), " "); !strings.Contains(v, "broker figures unavailable: "+why) {
				t.Errorf("%v: no plain word of the missing figures:\n%s", size, v)
			}
		}
		h.press("m")
		v := strings.Join(queuesLines(t, h.view()), " ")
		if !strings.Contains(strings.Join(strings.Fields(v), " "), "broker figures unavailable: "+why) {
			t.Errorf("%v, broker's view: no plain word of the missing figures:\n%s", size, v)
		}
		if strings.Contains(v, "oms.payment") {
			t.Errorf("%v: broker's view shows queue rows without figures:\n%s", size, v)
		}
		checkScreen(t, h.view(), size[0], size[1])

		snap.Broker.Side = fakeSnapshot().Broker.Side
		snap.Broker.Nodes.Alarms = []string{"memory on rabbit@h"}
		h.src.setSnapshot(snap)
		h.refresh()
		lines := queuesLines(t, h.view())
		if all := strings.Join(lines, "\n"); size[1] == 45 && !strings.Contains(all, "broker: ⚠ alarm: memory on rabbit@h") {
			t.Errorf("%v: the memory alarm is not in the queues panel:\n%s", size, all)
		}
		if size[1] == 24 && !strings.Contains(lines[0], "⚠ ALARM: memory") {
			t.Errorf("80×24 broker view: the title %q does not carry the alarm", lines[0])
		}
	}
}

func TestGoldenBrokerView(t *testing.T) {
	for _, size := range [][2]int{{140, 45}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			tm := goldenProgram(t, size[0], size[1])
			tm.Send(keyMsg("m"))
			tm.waitFor(t, "the broker's view", func(m *Model) bool { return m.queues.broker })
			requireGoldenFrame(t, tm, size[0], size[1])
		})
	}
}
