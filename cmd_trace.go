package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/streamlog"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

// readOptions are the flags of the commands that read the event stream.
type readOptions struct {
	amqpURL   string
	streamURL string
	namespace string
	since     time.Duration
	tlsOpts   broker.TLSOptions
	tlsConf   *tls.Config // built by readBack
	logLevel  string
	log       *slog.Logger
}

func (r *readOptions) register(cmd *cobra.Command, since time.Duration) {
	f := cmd.Flags()
	f.StringVar(&r.amqpURL, "amqp", defaultAMQPURL(), "RabbitMQ URL (env OMS_AMQP_URL); the stream URL is derived from it")
	redactDefault(cmd, "amqp")
	f.StringVar(&r.streamURL, "stream-url", "", "stream protocol URL (default: the --amqp host and credentials, port 5552)")
	f.StringVar(&r.namespace, "namespace", "", "the namespace the pipeline ran in")
	f.DurationVar(&r.since, "since", since, "how far back to search the event stream (0: all of it)")
	registerTLS(cmd, &r.tlsOpts)
	f.StringVar(&r.logLevel, "log-level", "warn", "debug|info|warn|error, to stderr (debug includes the stream client's own lines)")
}

// setup makes the command's logger (stderr at --log-level), sends the
// clients' own log lines to it, checks the URLs and builds the TLS
// settings.
func (r *readOptions) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(r.logLevel)); err != nil {
		return exitWith(exitUsage, fmt.Errorf("--log-level %q: valid are debug, info, warn, error", r.logLevel))
	}
	r.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	setClientLoggers(r.log)
	if err := r.checkURLs(); err != nil {
		return err
	}
	if r.tlsConf == nil {
		c, err := tlsSetup(r.tlsOpts, r.amqpURL, r.streamURL)
		if err != nil {
			return err
		}
		r.tlsConf = c
	}
	return nil
}

func (r readOptions) config() streamlog.Config {
	u := r.streamURL
	if u == "" {
		u = streamURLFor(r.amqpURL)
	}
	names := engine.Names{Namespace: r.namespace}
	log := r.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return streamlog.Config{URL: u, Stream: names.Of(streamlog.DefaultStream), RunStream: names.Of(streamlog.DefaultRunStream), Logger: log, TLS: r.tlsConf}
}

// readBack reads matching events, mapping failures to exit codes.
func (r readOptions) readBack(ctx context.Context, match func(engine.Event) bool) ([]engine.Event, error) {
	if err := r.checkURLs(); err != nil {
		return nil, err
	}
	if r.tlsConf == nil {
		c, err := tlsSetup(r.tlsOpts, r.amqpURL, r.streamURL)
		if err != nil {
			return nil, err
		}
		r.tlsConf = c
	}
	evs, err := streamlog.ReadBack(ctx, r.config(), r.since, match)
	return readResult(evs, err)
}

// readResult maps a read's failures to exit codes.
func readResult(evs []engine.Event, err error) ([]engine.Event, error) {
	switch {
	case errors.Is(err, streamlog.ErrStalled):
		fmt.Fprintf(os.Stderr, "oms-sim: warning: %v; showing what was read\n", err)
		return evs, nil
	case errors.Is(err, broker.ErrBadURL):
		return nil, exitWith(exitUsage, err)
	case errors.Is(err, streamlog.ErrUnreachable):
		return nil, exitWith(exitUnreachable, err)
	case errors.Is(err, streamlog.ErrNoStream):
		return nil, exitWith(exitFailed, fmt.Errorf("%w: no run has used the stream event log here yet", err))
	case err != nil:
		return nil, exitWith(exitFailed, err)
	}
	return evs, nil
}

func newTraceCmd() *cobra.Command {
	var r readOptions
	var window time.Duration
	cmd := &cobra.Command{
		Use:   "trace ORDER_ID",
		Short: "Print an order's timeline from the event stream, whichever processes handled it",
		Long: `Trace prints an order's timeline from the event stream oms.events.

An order id made by oms-sim is a UUIDv7 and carries the time it was made: trace
reads the stream from that time less 1 s (a stream offset by timestamp) until
0.5 s after the order's last event (confirmed, a notice sent, or dead-lettered),
or --window after its time for an order that never ended — so it takes about
as long on a stream of millions of events as on a small one. For any other id
it cannot know the time and searches the last --since of the stream instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := r.setup(); err != nil {
				return err
			}
			id := args[0]
			evs, err := readResult(streamlog.TraceOrder(cmd.Context(), r.config(), id, r.since, window))
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				if t, err := streamlog.OrderTime(id); err == nil {
					return exitWith(exitFailed, fmt.Errorf("order %s: no events in the stream between %s and %s (the id's time less %v, plus --window %v)",
						id, t.Add(-streamlog.TraceMargin).Local().Format(time.DateTime), t.Add(window).Local().Format(time.DateTime), streamlog.TraceMargin, window))
				}
				return exitWith(exitFailed, fmt.Errorf("order %s: no events in the last %v of the stream (not a UUIDv7, so searched by --since; try --since 0)", id, r.since))
			}
			printTimeline(cmd, id, evs)
			return nil
		},
	}
	r.register(cmd, 24*time.Hour)
	cmd.Flags().Lookup("since").Usage = "for an id that is not a UUIDv7: how far back to search the event stream (0: all of it)"
	cmd.Flags().DurationVar(&window, "window", streamlog.DefaultTraceWindow, "for a UUIDv7 id: read at most this long after the order's time")
	return cmd
}

func printTimeline(cmd *cobra.Command, id string, evs []engine.Event) {
	// Stream order is append order; a timeline is event-time order (the
	// API logs "accepted" after the broker's confirm, when payment may
	// already have run).
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	out := cmd.OutOrStdout()
	status := engine.StatusPending
	for _, ev := range evs {
		if st, ok := ev.Status(); ok && (st.Terminal() || !status.Terminal()) {
			status = st
		}
	}
	fmt.Fprintf(out, "order %s: %s\n", id, status)
	if o := evs[0].Order; o != nil {
		fmt.Fprintf(out, "product %d × %d for user %d\n", o.ProductID, o.Quantity, o.UserID)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "OFFSET\tTIME\tEVENT\tSTAGE\tWORKER\tPROCESS\tDETAIL")
	t0 := evs[0].Time
	for _, ev := range evs {
		fmt.Fprintf(w, "+%v\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Sub(t0).Round(time.Microsecond), ev.Time.Format("15:04:05.000"),
			ev.Type, ev.Stage, ev.Worker, ev.Process, ev.Detail)
	}
	w.Flush()
}

func newRunsCmd() *cobra.Command {
	var r readOptions
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the load-generator runs recorded in the event stream (for replay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := r.setup(); err != nil {
				return err
			}
			evs, err := readRuns(cmd.Context(), r)
			if err != nil {
				return err
			}
			type run struct {
				id, scenario string
				start        time.Time
				orders       string
			}
			var runs []*run
			byID := map[string]*run{}
			for _, ev := range evs {
				rn := byID[ev.RunID]
				if rn == nil {
					rn = &run{id: ev.RunID, orders: "running or interrupted"}
					byID[ev.RunID] = rn
					runs = append(runs, rn)
				}
				switch ev.Type {
				case engine.EventRunStarted:
					rn.scenario, rn.start = ev.Detail, ev.Time
				case engine.EventRunFinished:
					var a loadgen.Audit
					if json.Unmarshal([]byte(ev.Detail), &a) == nil {
						rn.orders = fmt.Sprintf("%d accepted, %d lost", a.Accepted, a.Lost)
					}
				}
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "RUN\tSCENARIO\tSTARTED\tORDERS")
			for _, rn := range runs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", rn.id, rn.scenario, rn.start.Local().Format("2006-01-02 15:04:05"), rn.orders)
			}
			return w.Flush()
		},
	}
	r.register(cmd, 7*24*time.Hour)
	return cmd
}

func newReplayCmd() *cobra.Command {
	var o runOptions
	var speed string
	cmd := &cobra.Command{
		Use:   "replay --run RUN_ID [--speed 2x]",
		Short: "Re-drive a recorded run — its scenario and its arrivals, with the same timing — against the current system",
		Long: `Replay reads a run's recorded scenario and arrivals (intended send time and
order) from the event stream, re-applies the scenario (seed, catalog, stage
settings, actions scaled by --speed, thresholds) and sends exactly those
arrivals again — scaled by --speed — through the current pipeline, then
drains, audits and reports like a scenario run.
'oms-sim runs' lists the recorded runs. Every main-command flag applies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.replayRun == "" {
				return exitWith(exitUsage, errors.New("replay needs --run RUN_ID (see 'oms-sim runs')"))
			}
			v, err := strconv.ParseFloat(strings.TrimSuffix(speed, "x"), 64)
			if err != nil || v <= 0 {
				return exitWith(exitUsage, fmt.Errorf("--speed %q: want a positive factor like 2x or 0.5x", speed))
			}
			o.replaySpeed = v
			o.amqpSet = cmd.Flags().Changed("amqp")
			o.changed = cmd.Flags().Changed
			return run(cmd.Context(), o)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.replayRun, "run", "", "the run to replay (see 'oms-sim runs')")
	cmd.Flags().StringVar(&speed, "speed", "1x", "time scale: 2x replays twice as fast")
	cmd.Flags().DurationVar(&o.replaySince, "since", 7*24*time.Hour, "how far back to search the event stream for the run")
	return cmd
}

// loadReplay reads a recorded run's arrivals and builds its replay.
func loadReplay(ctx context.Context, o runOptions) (*scenario.Scenario, []loadgen.Arrival, error) {
	r := readOptions{amqpURL: o.amqpURL, streamURL: o.ev.streamURL, namespace: o.namespace, since: o.replaySince, tlsConf: o.tlsConf}
	evs, err := readRun(ctx, r, o.replayRun)
	if err != nil {
		return nil, nil, err
	}
	name, arrivals, err := loadgen.ArrivalsOf(o.replayRun, evs)
	if err != nil {
		return nil, nil, exitWith(exitUsage, err)
	}
	orig, err := loadgen.ScenarioOf(o.replayRun, evs)
	if err != nil {
		return nil, nil, exitWith(exitUsage, err)
	}
	var sc *scenario.Scenario
	if orig != nil {
		sc, arrivals, err = loadgen.ReplayRecorded(orig, arrivals, o.replaySpeed)
	} else {
		fmt.Fprintf(os.Stderr, "oms-sim: run %s recorded no scenario (an older oms-sim): replaying its arrivals with this command's catalog and stages\n", o.replayRun)
		sc, arrivals, err = loadgen.ReplayScenario(name, arrivals, o.replaySpeed)
	}
	if err != nil {
		return nil, nil, exitWith(exitUsage, err)
	}
	return sc, arrivals, nil
}

// readRuns returns the run records (run.started and run.finished) of the
// last --since: from the small run stream oms.runs, or, when there is
// none (runs recorded before it existed), from the event stream, decoding
// only run records.
func readRuns(ctx context.Context, r readOptions) ([]engine.Event, error) {
	isRun := func(ev engine.Event) bool {
		return ev.RunID != "" && (ev.Type == engine.EventRunStarted || ev.Type == engine.EventRunFinished)
	}
	var w streamlog.Window
	if r.since > 0 {
		w.From = time.Now().Add(-r.since)
	}
	cfg := r.config()
	runsCfg := cfg
	runsCfg.Stream = cfg.RunStream
	evs, err := streamlog.Read(ctx, runsCfg, w, isRun)
	if errors.Is(err, streamlog.ErrNoStream) {
		fmt.Fprintf(os.Stderr, "oms-sim: no run stream %s: searching the event stream %s (slow on a large one)\n", cfg.RunStream, cfg.Stream)
		w.Needle = []byte(`"event":"run.`)
		evs, err = streamlog.Read(ctx, cfg, w, isRun)
	}
	return readResult(evs, err)
}

// readRun returns a recorded run's events (its start, arrivals and end),
// reading the event stream only between the run's start and end as the
// run stream records them (to the end of the stream for a run that did
// not finish), decoding only lines naming the run.
func readRun(ctx context.Context, r readOptions, runID string) ([]engine.Event, error) {
	runs, err := readRuns(ctx, r)
	if err != nil {
		return nil, err
	}
	w := streamlog.Window{Needle: []byte(`"run_id":"` + runID + `"`)}
	for _, ev := range runs {
		if ev.RunID != runID {
			continue
		}
		switch ev.Type {
		case engine.EventRunStarted:
			w.From = ev.Time.Add(-streamlog.TraceMargin)
		case engine.EventRunFinished:
			w.Until = ev.Time.Add(streamlog.TraceTail)
		}
	}
	if w.From.IsZero() {
		return nil, exitWith(exitUsage, fmt.Errorf("run %s: not among the runs of the last %v (see 'oms-sim runs'; --since widens the search)", runID, r.since))
	}
	return readResult(streamlog.Read(ctx, r.config(), w, func(ev engine.Event) bool { return ev.RunID == runID }))
}
