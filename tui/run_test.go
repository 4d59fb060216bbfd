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
	awaitRun(t, done, "after q", "after q")
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
	awaitRun(t, done, "after cancel", "when its context ended")
}

// awaitRun waits up to 5s for Run's result on done and fails unless it
// returned nil: after names the event in the error, when in the timeout.
func awaitRun(t *testing.T, done <-chan error, after, when string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run %s = %v, want nil", after, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return %s", when)
	}
}
