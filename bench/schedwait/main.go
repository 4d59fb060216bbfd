// Command schedwait reads a Go execution trace of oms-sim (oms-sim
// --exectrace FILE) and says why its load generator's sends left late:
// for every time the pacer goroutine (the one running loadgen's send
// loop) waited runnable for longer than -min before it ran, how long it
// waited, what had blocked it, and which other goroutines ran on the
// process's Ps meanwhile (grouped by where they last blocked).
//
//	oms-sim --scenario s.yaml --headless --exectrace /tmp/run.trace
//	cd bench/schedwait && go run . -min 5ms /tmp/run.trace
//
// It is a module of its own (golang.org/x/exp/trace parses the trace), so
// the product's go.mod does not carry it.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	minWait := flag.Duration("min", 5*time.Millisecond, "report the pacer's runnable waits longer than this")
	top := flag.Int("top", 8, "goroutine kinds listed per wait")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: schedwait [-min 5ms] [-top 8] TRACE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedwait:", err)
		os.Exit(2)
	}
	defer f.Close()
	a, err := analyse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedwait:", err)
		os.Exit(1)
	}
	a.print(os.Stdout, *minWait, *top)
}

// span is a stretch of trace time.
type span struct{ from, to trace.Time }

func (s span) d() time.Duration { return time.Duration(s.to - s.from) }

// overlaps says whether any of spans overlaps s.
func overlaps(spans []span, s span) bool {
	for _, x := range spans {
		if x.from <= s.to && s.from <= x.to {
			return true
		}
	}
	return false
}

// run is one goroutine starting to run: when, and the kind of goroutine
// (where it last blocked: its first two frames outside the runtime).
type run struct {
	at   trace.Time
	kind string
}

// wait is one runnable stretch of the pacer.
type wait struct {
	from, to trace.Time
	blocked  string // where the pacer had blocked before
}

type analysis struct {
	pacer  trace.GoID
	runs   []run
	waits  []wait
	wakes  int
	period time.Duration
	// The pacer's other delays: stretches it ran (a send's own work, GC
	// assists included), its GC mark assists, and waits blocked on
	// anything but its timer (a lock, a full channel).
	ran     []wait // from, to, and how the stretch ended
	assists []span
	blocks  []wait
	gcMarks []span // the GC's concurrent mark phases
}

// pacerFrame is the send loop's function: its goroutine is the pacer.
const pacerFrame = "oms-sim/loadgen.(*Runner).send"

func analyse(r io.Reader) (*analysis, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, err
	}
	a := &analysis{pacer: trace.NoGoroutine}
	kind := map[trace.GoID]string{}
	var runnableAt, runningAt, blockedAt, markAt, assistAt trace.Time
	var blocked string
	var first, last trace.Time
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if first == 0 {
			first = ev.Time()
		}
		last = ev.Time()
		if k := ev.Kind(); k == trace.EventRangeBegin || k == trace.EventRangeEnd {
			r := ev.Range()
			begin := k == trace.EventRangeBegin
			switch {
			case r.Name == "GC concurrent mark phase" && begin:
				markAt = ev.Time()
			case r.Name == "GC concurrent mark phase" && markAt != 0:
				a.gcMarks = append(a.gcMarks, span{markAt, ev.Time()})
			case r.Name == "GC mark assist" && r.Scope.Kind == trace.ResourceGoroutine && r.Scope.Goroutine() == a.pacer && a.pacer != trace.NoGoroutine:
				if begin {
					assistAt = ev.Time()
				} else if assistAt != 0 {
					a.assists = append(a.assists, span{assistAt, ev.Time()})
					assistAt = 0
				}
			}
			continue
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		if a.pacer == trace.NoGoroutine && hasFrame(st.Stack, pacerFrame) {
			a.pacer = id
		}
		if id != a.pacer {
			if from == trace.GoRunning {
				if k := frames(st.Stack, 2); k != "" {
					kind[id] = k
				}
			}
			if to == trace.GoRunning {
				a.runs = append(a.runs, run{ev.Time(), cmp.Or(kind[id], "(unknown: blocked before the trace began)")})
			}
			continue
		}
		if from == trace.GoRunning && runningAt != 0 {
			if hasFrame(st.Stack, pacerFrame) { // in the send loop, not the run's end
				a.ran = append(a.ran, wait{runningAt, ev.Time(), to.String() + " at " + frames(st.Stack, 3)})
			}
			runningAt = 0
		}
		switch {
		case from == trace.GoRunning && to == trace.GoWaiting:
			blocked = frames(st.Stack, 3) + " (" + st.Reason + ")"
			blockedAt = 0
			if hasFrame(st.Stack, pacerFrame) {
				blockedAt = ev.Time() // in the send loop, not the run's end
			}
		case to == trace.GoRunnable:
			runnableAt = ev.Time()
			a.wakes++
			if from == trace.GoWaiting && blockedAt != 0 && !strings.Contains(blocked, "SleepUntil") {
				a.blocks = append(a.blocks, wait{blockedAt, ev.Time(), blocked})
			}
			blockedAt = 0
		case from == trace.GoRunnable && to == trace.GoRunning && runnableAt != 0:
			a.waits = append(a.waits, wait{runnableAt, ev.Time(), blocked})
			runnableAt = 0
		}
		if to == trace.GoRunning {
			runningAt = ev.Time()
		}
	}
	a.period = time.Duration(last - first)
	if a.pacer == trace.NoGoroutine {
		return nil, fmt.Errorf("no goroutine ran %s in this trace: not an oms-sim run with load, or the trace began after the load", pacerFrame)
	}
	return a, nil
}

func hasFrame(s trace.Stack, fn string) bool {
	for f := range s.Frames() {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// frames names a stack by its first n frames outside the runtime.
func frames(s trace.Stack, n int) string {
	var out []string
	for f := range s.Frames() {
		if strings.HasPrefix(f.Func, "runtime.") || strings.HasPrefix(f.Func, "internal/") || strings.HasPrefix(f.Func, "sync.") {
			continue
		}
		out = append(out, f.Func)
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, " < ")
}

func (a *analysis) print(w io.Writer, minWait time.Duration, top int) {
	var long []wait
	var total time.Duration
	ds := make([]time.Duration, 0, len(a.waits))
	for _, x := range a.waits {
		d := time.Duration(x.to - x.from)
		ds = append(ds, d)
		total += d
		if d >= minWait {
			long = append(long, x)
		}
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	fmt.Fprintf(w, "trace of %v; the pacer (goroutine %d) became runnable %d times and waited to run: p50 %v, p90 %v, p99 %v, max %v, %v in all\n",
		a.period.Round(time.Millisecond), a.pacer, a.wakes, q(0.5), q(0.9), q(0.99), q(1), total.Round(time.Millisecond))
	a.printDelays(w, minWait)
	inGC := 0
	for _, x := range long {
		if overlaps(a.gcMarks, span{x.from, x.to}) {
			inGC++
		}
	}
	fmt.Fprintf(w, "%d runnable waits of %v or more, %d of them during a GC mark phase:\n", len(long), minWait, inGC)
	for _, x := range long {
		counts := map[string]int{}
		n := 0
		for _, r := range a.runs {
			if r.at >= x.from && r.at <= x.to {
				counts[r.kind]++
				n++
			}
		}
		gc := ""
		if overlaps(a.gcMarks, span{x.from, x.to}) {
			gc = " (during a GC mark phase)"
		}
		fmt.Fprintf(w, "\n%v runnable after %s%s; meanwhile %d other goroutines ran:\n", time.Duration(x.to-x.from).Round(10*time.Microsecond), x.blocked, gc, n)
		kinds := make([]string, 0, len(counts))
		for k := range counts {
			kinds = append(kinds, k)
		}
		slices.SortFunc(kinds, func(p, q string) int { return cmp.Or(counts[q]-counts[p], strings.Compare(p, q)) })
		for _, k := range kinds[:min(top, len(kinds))] {
			fmt.Fprintf(w, "  %5d  %s\n", counts[k], k)
		}
	}
}

// printDelays sums up the pacer's delays other than its runnable waits:
// the GC's mark phases, the pacer's assists to them, its long stretches
// of running, and its blocks on anything but its timer.
func (a *analysis) printDelays(w io.Writer, minWait time.Duration) {
	var mark, assist time.Duration
	for _, s := range a.gcMarks {
		mark += s.d()
	}
	var longest time.Duration
	for _, s := range a.assists {
		assist += s.d()
		longest = max(longest, s.d())
	}
	fmt.Fprintf(w, "GC: %d mark phases, %v in all (%.0f%% of the trace); the pacer assisted %d times, %v in all, longest %v\n",
		len(a.gcMarks), mark.Round(time.Millisecond), 100*float64(mark)/float64(max(a.period, 1)), len(a.assists),
		assist.Round(time.Microsecond), longest.Round(time.Microsecond))
	long := atLeast(a.ran, minWait)
	fmt.Fprintf(w, "the pacer ran %d stretches of %v or more (a long one is its thread preempted by the OS, or its own work)\n", len(long), minWait)
	for _, s := range long[:min(len(long), 5)] {
		gc := ""
		if overlaps(a.gcMarks, span{s.from, s.to}) {
			gc = " (during a GC mark phase)"
		}
		fmt.Fprintf(w, "  %v%s, ended %s\n", time.Duration(s.to-s.from).Round(10*time.Microsecond), gc, s.blocked)
	}
	blocks := atLeast(a.blocks, minWait)
	fmt.Fprintf(w, "the pacer blocked on something other than its timer %d times for %v or more\n", len(blocks), minWait)
	for _, b := range blocks[:min(len(blocks), 5)] {
		fmt.Fprintf(w, "  %v on %s\n", time.Duration(b.to-b.from).Round(10*time.Microsecond), b.blocked)
	}
}

// atLeast returns the waits of ws that lasted d or more.
func atLeast(ws []wait, d time.Duration) []wait {
	var out []wait
	for _, x := range ws {
		if time.Duration(x.to-x.from) >= d {
			out = append(out, x)
		}
	}
	return out
}
