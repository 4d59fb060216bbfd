package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
	"oms-sim/scenarios"
)

// run is the main command: start the engine and the API; run a scenario
// if one was given; show the dashboard or headless output; drain on the
// first signal (a second one exits at once).
func run(parent context.Context, o runOptions) error {
	// Check everything the user typed before touching the broker.
	if err := o.checkURLs(); err != nil {
		return err
	}
	tlsConf, err := o.tlsSetup()
	if err != nil {
		return err
	}
	o.tlsConf = tlsConf
	var sc *scenario.Scenario
	if o.replayRun != "" {
		s, arrivals, err := loadReplay(parent, o)
		if err != nil {
			return err
		}
		sc, o.replayArrivals = s, arrivals
	} else if o.scenario != "" {
		s, err := scenarios.Load(o.scenario)
		if err != nil {
			return exitWith(exitUsage, err)
		}
		sc = s
	}
	if len(o.reports) > 0 {
		if sc == nil {
			return exitWith(exitUsage, errors.New("--report needs --scenario"))
		}
		if err := loadgen.CheckReportPaths(o.reports, true); err != nil {
			return exitWith(exitUsage, err)
		}
	}
	if err := o.checkLoadFlags(); err != nil {
		return err
	}
	if err := o.checkAPIAccess(); err != nil {
		return err
	}
	if sc != nil && !o.canLoad() {
		return exitWith(exitUsage, fmt.Errorf("--role %s has no api: a scenario's orders need this process's API (add api to --role) or --target URL of an API elsewhere", o.roles))
	}
	headless := o.headless || !isTerminal(os.Stdout)
	if !headless && o.logFile == "" {
		// The dashboard owns the terminal: logs go to a file.
		o.logFile = filepath.Join(os.TempDir(), "oms-sim.log")
		o.privateLog = true
	}
	ctx, p, stop, err := startUp(parent, o, sc)
	if err != nil {
		return err
	}
	defer stop() // also on a panic
	eng, srv := p.eng, p.srv
	runner, err := newRunner(o, sc, eng, srv, headless, p.evMode == engine.EventsStream)
	if err != nil {
		p.close()
		return exitWith(exitUsage, err)
	}
	var rep *loadgen.Report
	if headless {
		rep, err = runHeadless(ctx, o, sc, eng, runner)
	} else {
		rep, err = runDashboard(ctx, o, sc, eng, runner)
	}
	fmt.Fprintln(os.Stderr, "oms-sim: draining (press Ctrl+C again to exit at once)")
	p.close()
	fmt.Fprintln(os.Stderr, "oms-sim: stopped cleanly")
	if err != nil {
		return err
	}
	return finish(o, rep)
}

// canLoad reports whether this process can place orders: through its own
// API role, or through --target's API elsewhere.
func (o runOptions) canLoad() bool {
	if o.target != "" {
		return true
	}
	for _, r := range strings.Split(o.roles, ",") {
		if strings.TrimSpace(r) == engine.RoleAPI {
			return true
		}
	}
	return false
}

// newRunner builds the load generator with the chosen driver; there is
// none (nil) when this process cannot place orders (see canLoad).
func newRunner(o runOptions, sc *scenario.Scenario, eng *engine.Engine, srv *http.Server, headless, record bool) (*loadgen.Runner, error) {
	if !o.canLoad() {
		return nil, nil
	}
	drv := newDriver(o, eng, srv)
	var progress io.Writer
	if headless {
		progress = os.Stdout
	}
	snap := eng.Snapshot()
	return loadgen.New(loadgen.Config{
		Scenario: sc, Engine: eng, Driver: drv, Broker: snap.Broker,
		DrainTimeout: o.drainTimeout, Progress: progress, MaxInFlight: o.maxInFlight,
		Record: record, Replay: o.replayArrivals, NoSeries: !o.series,
	})
}

// finish writes the report file and turns the verdict into the exit code.
func finish(o runOptions, rep *loadgen.Report) error {
	if rep == nil {
		return nil
	}
	var verdict error
	if !rep.Passed {
		verdict = exitWith(exitFailed, fmt.Errorf("scenario %s failed: %s", rep.Scenario, failSummary(rep)))
	}
	for _, path := range o.reports {
		if err := rep.WriteFile(path); err != nil {
			return reportFailed(path, err, verdict)
		}
		fmt.Fprintf(os.Stderr, "oms-sim: report written to %s\n", path)
	}
	return verdict
}

func failSummary(rep *loadgen.Report) string {
	var parts []string
	if rep.Interrupted {
		parts = append(parts, "interrupted before its end")
	}
	if rep.Audit.Lost > 0 {
		parts = append(parts, fmt.Sprintf("%d orders lost", rep.Audit.Lost))
	}
	for _, f := range rep.FailedActions {
		parts = append(parts, fmt.Sprintf("action at %s refused: %s (%s)", loadgen.FormatMs(f.AtMs), f.Action, f.Error))
	}
	for _, t := range rep.Thresholds {
		if !t.Pass {
			parts = append(parts, fmt.Sprintf("%s (observed %s)", t.Threshold, t.Display))
		}
	}
	return strings.Join(parts, "; ")
}

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }
