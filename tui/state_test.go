package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"oms-sim/engine"
)

// TestSharedStateShown: with a shared state the header names it, with
// the stock every process reads and the inbox hits, and a stage's line
// its own inbox hits; the default memory state adds nothing.
func TestSharedStateShown(t *testing.T) {
	t.Parallel()
	st := DefaultStyles(true)
	snap := engine.Snapshot{
		Broker: engine.BrokerStatus{Kind: "rabbitmq", URL: "amqp://guest@localhost:5672/", QueueType: "classic", Connected: true},
		State: engine.StateStatus{Kind: engine.StatePostgres, URL: "postgres oms@127.0.0.1:5432/oms schema oms",
			Products: 50, Units: 4_999_000, OutOfStock: 2, InboxHits: 7},
		Stages: []engine.StageSnapshot{{Name: engine.StagePayment, Config: engine.DefaultStageConfig(), InboxHits: 3, Redelivered: 3}},
	}
	h := newHeader(&st, "", false)
	h.SetSize(140, 45)
	h.Update(snap, nil, nil, time.Now())
	line := ansi.Strip(h.brokerLine())
	if want := "state pg 127.0.0.1:5432/oms stock 5.00M 2 sold out"; !strings.Contains(line, want) {
		t.Errorf("header %q lacks %q", line, want)
	}
	h.SetSize(200, 45)
	line = ansi.Strip(h.brokerLine())
	for _, want := range []string{"state postgres oms@127.0.0.1:5432/oms schema oms stock", "inbox hits 7"} {
		if !strings.Contains(line, want) {
			t.Errorf("header at 200 columns %q lacks %q", line, want)
		}
	}
	p := newStagesPanel(&st)
	p.Update(snap, nil, false)
	if d := ansi.Strip(p.detailLine()); !strings.Contains(d, "inbox hits 3") {
		t.Errorf("stage line %q lacks the inbox hits", d)
	}

	snap.State = engine.StateStatus{Kind: engine.StateMemory, Products: 50, Units: 5_000_000}
	h.Update(snap, nil, nil, time.Now())
	if line := ansi.Strip(h.brokerLine()); strings.Contains(line, "state") || strings.Contains(line, "stock") {
		t.Errorf("memory state shown in the header: %q", line)
	}
}
