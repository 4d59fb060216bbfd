package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/httpapi"
	"oms-sim/engine/streamlog"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// The set-up shared by the main command and capacity: the process (logs,
// profile, signals), then the pipeline (broker, event log, engine, API).

// checkLoadFlags checks the load generator's flags before anything starts.
func (o runOptions) checkLoadFlags() error {
	if o.driver != loadgen.DriverHTTP && o.driver != loadgen.DriverPublish {
		return exitWith(exitUsage, fmt.Errorf("--driver %q: valid are http, publish", o.driver))
	}
	if o.maxInFlight < 1 {
		return exitWith(exitUsage, fmt.Errorf("--max-inflight %d: must be 1 or more", o.maxInFlight))
	}
	if o.target != "" && o.driver != loadgen.DriverHTTP {
		return exitWith(exitUsage, errors.New("--target needs --driver http"))
	}
	return nil
}

// stopGrace is what a signalled process gets beyond --drain-timeout to
// close its connections and write its report.
const stopGrace = 10 * time.Second

// setupProcess sets up what the whole process shares: the logger, the CPU
// profile, and a context cancelled by the first SIGINT or SIGTERM (a
// second one ends the process at once: stop.go). done undoes it all.
func setupProcess(parent context.Context, o runOptions) (ctx context.Context, log *slog.Logger, done func(), err error) {
	log, closeLog, err := newLogger(o)
	if err != nil {
		return nil, nil, nil, err
	}
	stopProfile, err := startProfiles(o)
	if err != nil {
		closeLog()
		return nil, nil, nil, err
	}
	setClientLoggers(log)
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	watched := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		if parent.Err() != nil {
			stop()
			return // not a signal: the caller ends the run
		}
		// A second signal ends the process at once (stop.go).
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(again)
		stop()
		// A signal: the drain gets --drain-timeout, whatever the broker
		// does (a node that neither answers nor closes, a stream client
		// that does not return); then the process ends anyway.
		limit := o.drainTimeout + stopGrace
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-finished:
		case <-again:
			exitAtOnce(log)
		case <-t.C:
			fmt.Fprintf(os.Stderr, "oms-sim: not stopped %v after the signal (--drain-timeout %v + %v); exiting without a clean drain\n", limit, o.drainTimeout, stopGrace)
			log.Error("forced exit: the drain did not finish in time", "limit", limit)
			os.Exit(exitFailed)
		}
	}()
	done = func() {
		close(finished)
		stop()
		<-watched
		stopProfile()
		closeLog()
	}
	return ctx, log, done, nil
}

// startProfiles starts the --cpuprofile and --exectrace recordings of the
// whole run and opens --memprofile's file; stop ends the recordings,
// writes the allocation profile and closes their files.
func startProfiles(o runOptions) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, f := range stops {
			f()
		}
	}
	none := func(io.Writer) error { return nil }
	for _, p := range []struct {
		flag, path string
		start      func(io.Writer) error
		end        func(io.Writer)
	}{
		{"--cpuprofile", o.cpuProfile, pprof.StartCPUProfile, func(io.Writer) { pprof.StopCPUProfile() }},
		{"--exectrace", o.execTrace, trace.Start, func(io.Writer) { trace.Stop() }},
		{"--memprofile", o.memProfile, none, writeAllocs},
	} {
		if p.path == "" {
			continue
		}
		f, err := os.Create(p.path)
		if err != nil {
			stop()
			return nil, exitWith(exitUsage, fmt.Errorf("%s: %w", p.flag, err))
		}
		if err := p.start(f); err != nil {
			f.Close()
			stop()
			return nil, exitWith(exitUsage, fmt.Errorf("%s: %w", p.flag, err))
		}
		end := p.end
		stops = append(stops, func() { end(f); f.Close() })
	}
	return stop, nil
}

// writeAllocs writes the run's allocations so far (pprof's allocs
// profile: go tool pprof -sample_index=alloc_space).
func writeAllocs(w io.Writer) {
	runtime.GC() // the profile counts up to the last collection
	_ = pprof.Lookup("allocs").WriteTo(w, 0)
}

// setClientLoggers sends the stream and AMQP clients' own log lines to
// log, at debug level: never raw onto the terminal of the dashboard or a
// command (issue 11).
func setClientLoggers(log *slog.Logger) {
	streamlog.SetClientLogger(log)
	amqpbroker.SetClientLogger(log)
}

// pipeline is a started engine and its HTTP API.
type pipeline struct {
	eng    *engine.Engine
	srv    *http.Server
	cfg    engine.Config
	evMode string // the event log in use: stream, memory or off
	log    *slog.Logger
	// closeState closes a shared state (after the engine); idempotent.
	closeState func()
}

// startPipeline opens the broker (DESIGN.md §3) and the event log, then
// starts the engine, configured by o and sc (nil: flags only), and serves
// its API. The error carries the exit code: 3 when the broker does not
// answer, 2 for configuration.
func startPipeline(ctx context.Context, o runOptions, sc *scenario.Scenario, log *slog.Logger) (*pipeline, error) {
	d, kind, note, err := openBroker(ctx, o, log)
	if err != nil {
		return nil, err
	}
	cfg, err := o.engineConfig(d, kind, note, log, sc)
	if err != nil {
		return nil, exitWith(exitUsage, err)
	}
	state, closeState, err := openState(ctx, o)
	if err != nil {
		return nil, err
	}
	cfg.State = state
	if w := poolWarning(state, cfg); w != "" {
		fmt.Fprintln(os.Stderr, "oms-sim: "+w)
		log.Warn(w)
	}
	ok := false
	defer func() {
		if !ok {
			closeState()
		}
	}()
	evLog, evMode, evNote, err := openEvents(ctx, o, kind, engine.Names{Namespace: o.namespace}, log)
	if err != nil {
		return nil, err
	}
	cfg.Events = evMode
	if evNote != "" {
		// Shown with the broker's in the header and the report.
		cfg.BrokerNote = strings.TrimPrefix(cfg.BrokerNote+"; "+evNote, "; ")
	}
	eng, err := engine.New(cfg)
	if err != nil {
		if evLog != nil {
			evLog.Close()
		}
		return nil, exitWith(exitUsage, err)
	}
	if evLog != nil {
		eng.SetEventLog(evLog)
		scfg := o.streamConfig(engine.Names{Namespace: o.namespace}, log)
		eng.SetOrderHistory(func(ctx context.Context, id string) ([]engine.Event, error) {
			if _, err := streamlog.OrderTime(id); err != nil {
				return nil, nil // no time to start from: never a scan of the whole stream per request
			}
			return streamlog.TraceOrder(ctx, scfg, id, 0, 0)
		})
	}
	if evNote != "" {
		fmt.Fprintln(os.Stderr, "oms-sim: "+evNote)
	}
	if err := eng.Start(ctx); err != nil {
		eng.Close()
		if errors.Is(err, engine.ErrBrokerUnreachable) || errors.Is(err, engine.ErrStateUnreachable) {
			return nil, exitWith(exitUnreachable, err)
		}
		return nil, exitWith(exitUsage, err)
	}
	setLeftInBroker(eng.LeftInBroker)
	if note != "" {
		fmt.Fprintln(os.Stderr, "oms-sim: "+note)
	}
	srv, err := serveHTTP(o.httpAddr, httpapi.Handler(eng), log)
	if err != nil {
		eng.Close()
		return nil, exitWith(exitUsage, err)
	}
	fmt.Fprintf(os.Stderr, "oms-sim: API on http://%s  broker %s (%s, %s queues)  roles %s  state %s\n",
		displayAddr(srv.Addr), d.Describe(), kind, cfg.QueueType, o.roles, eng.State().Describe())
	if w := o.insecureAdminWarning(); w != "" {
		fmt.Fprintln(os.Stderr, "oms-sim: "+w)
		log.Warn(w)
	}
	ok = true
	return &pipeline{eng: eng, srv: srv, cfg: cfg, evMode: evMode, log: log, closeState: closeState}, nil
}

// close stops the API, lets the requests in flight finish, and drains the
// engine.
func (p *pipeline) close() { shutdown(p.srv, p.eng, p.log) }

// newDriver returns the load generator's driver as --driver and --target
// say: the publisher, this process's API, or another API.
func newDriver(o runOptions, eng *engine.Engine, srv *http.Server) loadgen.Driver {
	if o.driver != loadgen.DriverHTTP {
		return loadgen.PublishDriver{P: eng}
	}
	target := o.target
	if target == "" {
		target = "http://" + loopbackAddr(srv.Addr)
	}
	return loadgen.NewHTTPDriver(target)
}
