package loadgen

import (
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/loadgen/pace"
)

// TestBookCountsOverdueAndOutcomes checks the phase bookkeeping: an order
// counts in the phase it was due in, whenever it left; one that left late
// after its phase ended is overdue and not part of the phase's achieved
// rate.
func TestBookCountsOverdueAndOutcomes(t *testing.T) {
	t.Parallel()
	sc := parse(t, `
name: book
phases:
  - {name: a, duration: 1s, rate: 10/s}
  - {name: b, duration: 2s, rate: 10/s}
`)
	p, err := pace.FromScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	b := newBook(p)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	steps := []struct {
		phase   int
		sentAt  time.Duration
		late    bool
		inPhase bool
		o       outcome
		retries int
	}{
		{0, ms(500), false, true, outcomeAccepted, 0},
		{0, ms(990), true, true, outcomeAccepted, 1},   // late but before the end
		{0, ms(1004), false, true, outcomeAccepted, 0}, // after the end by jitter, on time
		{0, ms(1500), true, false, outcomeAccepted, 0}, // overdue: accepted, not achieved
		{0, ms(2500), true, false, outcomeShed, 2},     // overdue and shed
		{1, ms(1500), false, true, outcomeFailed, 0},
		{1, ms(2000), false, true, outcomeShed, 1},
		{-1, ms(9000), true, true, outcomeAccepted, 0}, // manual: the total only
	}
	for i, s := range steps {
		if got := b.send(s.phase, s.sentAt, s.late); got != s.inPhase {
			t.Fatalf("step %d: in phase %v, want %v", i, got, s.inPhase)
		}
		b.done(s.phase, s.inPhase, s.o, s.retries)
	}
	b.drop(0)
	b.drop(1)
	b.drop(1)
	b.skip(1)

	ph := b.perPhase()
	wantA := counts{Sent: 5, SentInPhase: 3, Late: 3, Dropped: 1, Accepted: 4, AcceptedInPhase: 3, Shed: 1, Retries: 3}
	wantB := counts{Sent: 2, SentInPhase: 2, Dropped: 2, Skipped: 1, Failed: 1, Shed: 1, Retries: 1}
	if ph[0] != wantA || ph[0].overdue() != 2 {
		t.Errorf("phase a\n got %+v\nwant %+v", ph[0], wantA)
	}
	if ph[1] != wantB {
		t.Errorf("phase b\n got %+v\nwant %+v", ph[1], wantB)
	}
	tot := b.totals()
	if tot.Sent != 8 || tot.overdue() != 2 || tot.Dropped != 3 || tot.Accepted != 5 || tot.Shed != 2 || tot.Retries != 4 || tot.Skipped != 1 {
		t.Errorf("totals %+v", tot)
	}

	// The report: phase a offered 10 orders in 1s and achieved 3 of them.
	ra := phaseReport(p, 0, ph[0])
	if ra.Expected != 10 || ra.AchievedRate != 3 || ra.SentRate != 3 || ra.Ratio != 0.3 || ra.AcceptedInPhase != 3 || ra.Overdue != 2 || ra.Dropped != 1 {
		t.Errorf("phase a report %+v", ra)
	}
	rb := phaseReport(p, 1, ph[1])
	if rb.Expected != 20 || rb.AchievedRate != 0 || rb.SentRate != 1 || rb.Skipped != 1 {
		t.Errorf("phase b report %+v", rb)
	}
}

func TestReportTextSaysWhatWasDropped(t *testing.T) {
	t.Parallel()
	rep := &Report{Scenario: "max", Phases: []PhaseReport{
		{Name: "warm-up", DurationMs: 10000, TargetRate: 500, SentRate: 500, AchievedRate: 500, Ratio: 1, Sent: 5000, Accepted: 5000},
		{Name: "climb", DurationMs: 80000, TargetRate: 8000, SentRate: 3900, AchievedRate: 3850, Sent: 312000, Dropped: 12345, Shed: 7},
	}}
	for _, text := range []string{rep.Text(), rep.Markdown()} {
		if !strings.Contains(text, "climb: offered 8000/s, sent 3900/s, dropped 12,345, overdue 0, shed 7\n") {
			t.Errorf("no plain line for the climb:\n%s", text)
		}
		if strings.Contains(text, "warm-up: offered") {
			t.Errorf("a line for a phase that kept up:\n%s", text)
		}
		for _, col := range []string{"sent/s", "overdue", "dropped", "shed", "retries"} {
			if !strings.Contains(text, col) {
				t.Errorf("phase table lacks %q:\n%s", col, text)
			}
		}
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	p := Progress{Scenario: "s", Phases: 1, Phase: "a", TargetRate: 8000, SentRate: 3900, AchievedRate: 3850, Accepted: 10}
	quiet := ProgressLine(p, engine.Snapshot{})
	if !strings.Contains(quiet, "rate accepted/sent/target 3850/3900/8000/s") || strings.Contains(quiet, "dropped") || strings.Contains(quiet, "shed") {
		t.Errorf("line without drops: %q", quiet)
	}
	p.Dropped, p.Shed, p.Retries = 12, 3, 4
	loud := ProgressLine(p, engine.Snapshot{})
	for _, want := range []string{" dropped 12", " shed 3", " retries 4"} {
		if !strings.Contains(loud, want) {
			t.Errorf("line %q lacks %q", loud, want)
		}
	}
	if strings.Contains(loud, "\n") {
		t.Errorf("progress line spans lines: %q", loud)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -4000: "-4,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
