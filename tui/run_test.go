package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// teatest waits for SIGINT for the whole test binary's life.
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"))
}

func runModel() Model {
	return New(newFakeSource(50), newFakeControl(), newFakeLoad(false),
		Options{NoColor: true, Now: fakeNow, RefreshInterval: 10 * time.Millisecond})
}

func TestRunReturnsOnQuitKey(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), runModel(),
			tea.WithInput(strings.NewReader("q")), tea.WithOutput(io.Discard), tea.WithWindowSize(80, 24))
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after q = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after q")
	}
}

func TestRunReturnsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r, w := io.Pipe() // input that never ends by itself
	defer w.Close()
	go func() {
		done <- Run(ctx, runModel(), tea.WithInput(r), tea.WithOutput(io.Discard), tea.WithWindowSize(80, 24))
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}
