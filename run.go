package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/broker/embedded"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
	"oms-sim/scenarios"
)

// runOptions are the flags of the main command.
type runOptions struct {
	httpAddr     string
	amqpURL      string
	amqpSet      bool
	brokerMode   string
	queueType    string
	namespace    string
	roles        string
	headless     bool
	seed         uint64
	emailSink    string
	recentOrders int
	maxBacklog   int
	idemKeys     int
	idemTTL      time.Duration
	mgmtURL      string
	logFile      string
	logLevel     string
	cpuProfile   string
	statusEvery  time.Duration
	stages       map[string]*stageFlags
	bodyBytes    int
	persistent   bool
	connections  string

	// Who may steer the API, and the dashboard's own log file.
	adminTok      string
	insecureAdmin bool
	privateLog    bool // logFile is the dashboard's default in $TMPDIR

	scenario     string
	reports      []string
	series       bool
	driver       string
	target       string
	drainTimeout time.Duration
	maxInFlight  int

	process string
	ev      eventFlags

	tlsOpts broker.TLSOptions
	tlsConf *tls.Config // built from tlsOpts by tlsSetup

	// replay, when set, re-drives that recorded run's arrivals.
	replayArrivals []loadgen.Arrival
	replayRun      string
	replaySpeed    float64
	replaySince    time.Duration

	changed func(flag string) bool // whether the user set a flag
}

type stageFlags struct {
	workers, prefetch int
	serviceTime       string
}

func defaultProcess() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

func (o *runOptions) registerEventFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.ev.events, "events", "auto", "event log: stream (RabbitMQ stream oms.events, shared by processes), memory, off (no timelines), or auto (stream when its port answers)")
	f.StringVar(&o.ev.streamURL, "stream-url", "", "stream protocol URL, or a comma-separated list of a cluster's nodes (default: the --amqp hosts and credentials, port 5552)")
	f.DurationVar(&o.ev.maxAge, "events-max-age", 24*time.Hour, "event stream retention by age (applied when the stream is created)")
	f.Int64Var(&o.ev.maxBytes, "events-max-bytes", 1<<30, "event stream retention by size in bytes (applied when the stream is created)")
}

func defaultAMQPURL() string {
	if u := os.Getenv("OMS_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@localhost:5672/"
}

func (o *runOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	o.registerEngine(cmd, engine.DefaultHTTPAddr)
	o.registerLoad(cmd)
	f.StringVar(&o.roles, "role", "api,payment,inventory,email", "parts to run in this process, comma-separated: api, payment, inventory, email, or none (watch only); without api, a scenario needs --target")
	f.BoolVar(&o.headless, "headless", false, "no dashboard: print a status line every few seconds")
	f.DurationVar(&o.statusEvery, "status-every", 2*time.Second, "headless status line interval (no scenario)")
	f.StringVar(&o.scenario, "scenario", "", "scenario to run: a shipped name (see 'oms-sim scenarios') or a YAML file")
	f.StringArrayVar(&o.reports, "report", nil, "write the run's report to FILE (.json, .md, .txt or .html, a self-contained page with charts); repeat for several formats, one file each")
	f.BoolVar(&o.series, "series", true, "record the run once a second for the report (series; --series=false leaves it out)")
	f.StringVar(&o.target, "target", "", "with --driver http: the order API to load (default: this process's own API)")
}

// managementURL is the management API to poll: --management-url, or
// derived from --amqp; "" when off.
func (o runOptions) managementURL() string {
	switch o.mgmtURL {
	case "off":
		return ""
	case "":
		return engine.ManagementURL(o.amqpURL)
	}
	u := strings.TrimRight(o.mgmtURL, "/")
	if !strings.HasSuffix(u, "/api") {
		u += "/api"
	}
	return u + "/"
}

// registerEngine registers the flags that configure the pipeline itself:
// broker, topology, API, stages, logging and the event log. The main
// command and capacity share them; httpAddr is the --http default.
func (o *runOptions) registerEngine(cmd *cobra.Command, httpAddr string) {
	f := cmd.Flags()
	f.StringVar(&o.httpAddr, "http", httpAddr, "listen address of the HTTP API (beyond loopback it needs --admin-token or --insecure-admin)")
	f.StringVar(&o.adminTok, "admin-token", "", "bearer token the changing endpoints (PATCH /api/stages, POST /api/inventory/restock) require (env OMS_ADMIN_TOKEN; at least 16 characters); placing orders and reading stay open")
	f.BoolVar(&o.insecureAdmin, "insecure-admin", false, "let anyone who reaches a non-loopback --http change stages and stock, without a token (said in the header and the log)")
	f.StringVar(&o.amqpURL, "amqp", defaultAMQPURL(), "RabbitMQ URL, or a comma-separated list of the nodes of a cluster (env OMS_AMQP_URL)")
	redactDefault(cmd, "amqp")
	f.StringVar(&o.brokerMode, "broker", "auto", "auto|rabbitmq|embedded: auto uses RabbitMQ when it answers, else the embedded broker")
	f.StringVar(&o.queueType, "queue-type", broker.Classic, "classic|quorum")
	f.StringVar(&o.namespace, "namespace", "", "prefix for every exchange and queue name (ns.orders, ns.oms.payment, …), to run separate pipelines on one broker")
	f.Uint64Var(&o.seed, "seed", 0, "random seed for declines, errors and service times (0: the scenario's, else from the clock; give every process of a split pipeline the same)")
	f.StringVar(&o.emailSink, "email-sink", "log", "where emails go: log, dir:PATH or smtp://host:port")
	f.IntVar(&o.recentOrders, "recent-orders", engine.DefaultRecentOrders, "orders kept in the trace store for timelines (memory is bounded by this; counts and latencies cover every order)")
	f.IntVar(&o.maxBacklog, "max-backlog", engine.DefaultMaxBacklog, "admission control: while the work queues hold more ready messages than this, POST /api/orders answers 503 + Retry-After (shed); 0 = off")
	f.IntVar(&o.idemKeys, "idempotency-keys", engine.DefaultIdempotencyKeys, "Idempotency-Keys of POST /api/orders remembered (oldest forgotten first); 0 ignores the header")
	f.DurationVar(&o.idemTTL, "idempotency-ttl", engine.DefaultIdempotencyTTL, "how long an Idempotency-Key is remembered at most")
	f.StringVar(&o.mgmtURL, "management-url", "", "RabbitMQ management API polled for the nodes' run queues and alarms (default: the --amqp host and credentials, port 15672; off to disable)")
	f.StringVar(&o.logFile, "log-file", "", "write logs to this file (default: stderr when headless, $TMPDIR/oms-sim.log with the dashboard)")
	f.StringVar(&o.logLevel, "log-level", "warn", "debug|info|warn|error")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to FILE (go tool pprof)")
	f.StringVar(&o.process, "process", defaultProcess(), "this process's name in events, traces and connection names")
	f.IntVar(&o.bodyBytes, "body-bytes", 0, "pad every message body to N bytes (0: the order JSON as it is, about 150 bytes; at most 16 MiB); overrides the scenario's broker.body_bytes")
	f.BoolVar(&o.persistent, "persistent", true, "publish persistent messages (delivery mode 2); --persistent=false publishes transient ones (mode 1); queues stay durable")
	f.StringVar(&o.connections, "connections", engine.ConnPerStage, "connection layout: per-stage (API, each stage and the monitor one each), per-worker (one per stage worker) or shared (one for everything)")
	o.registerEventFlags(cmd)
	registerTLS(cmd, &o.tlsOpts)
	o.stages = map[string]*stageFlags{}
	for _, s := range engine.StageNames {
		sf := &stageFlags{}
		o.stages[s] = sf
		f.IntVar(&sf.workers, s+"-workers", engine.DefaultWorkers, s+" stage workers")
		f.IntVar(&sf.prefetch, s+"-prefetch", engine.DefaultPrefetch, s+" stage prefetch per worker")
		f.StringVar(&sf.serviceTime, s+"-service-time", "0s", s+" service time: 5ms, uniform:1ms,9ms, lognormal:4ms,30ms, …")
	}
}

// registerLoad registers the load generator's flags.
func (o *runOptions) registerLoad(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.driver, "driver", loadgen.DriverHTTP, "how the load generator sends orders: http (POST /api/orders) or publish (straight to the exchange)")
	f.IntVar(&o.maxInFlight, "max-inflight", loadgen.DefaultMaxInFlight, "load generator: most sends awaiting an answer at once (retries included); an arrival that finds them all busy is counted dropped, never sent late")
	f.DurationVar(&o.drainTimeout, "drain-timeout", loadgen.DefaultDrainTimeout, "after the load, how long to wait for every order to reach a terminal status")
}

// openBroker chooses the broker as DESIGN.md §3 says: auto falls back to
// the embedded broker only when the user named no broker explicitly.
func openBroker(ctx context.Context, o runOptions, log *slog.Logger) (d broker.Dialer, kind, note string, err error) {
	switch o.brokerMode {
	case "embedded":
		return embedded.New(), "embedded", "embedded broker (--broker embedded)", nil
	case "rabbitmq":
		return amqpbroker.New(o.amqpURL, amqpbroker.WithTLS(o.tlsConf)), "rabbitmq", o.tlsNote(), nil
	case "auto":
		if err := amqpbroker.Ping(ctx, o.amqpURL, amqpbroker.WithTLS(o.tlsConf)); err != nil {
			if errors.Is(err, broker.ErrBadURL) {
				return nil, "", "", exitWith(exitUsage, err)
			}
			if amqpbroker.IsRefused(err) {
				return nil, "", "", exitWith(exitUnreachable, fmt.Errorf("RabbitMQ at %s refused the connection: %v (check user, password and vhost)", amqpbroker.Redact(o.amqpURL), err))
			}
			if o.amqpSet || os.Getenv("OMS_AMQP_URL") != "" {
				// Named explicitly: never silently replaced.
				return amqpbroker.New(o.amqpURL, amqpbroker.WithTLS(o.tlsConf)), "rabbitmq", o.tlsNote(), nil
			}
			note := fmt.Sprintf("EMBEDDED BROKER: no RabbitMQ at %s (%v); messages live in this process only", amqpbroker.Redact(o.amqpURL), err)
			log.Warn(note)
			return embedded.New(), "embedded", note, nil
		}
		return amqpbroker.New(o.amqpURL, amqpbroker.WithTLS(o.tlsConf)), "rabbitmq", o.tlsNote(), nil
	}
	return nil, "", "", exitWith(exitUsage, fmt.Errorf("--broker %q: valid are auto, rabbitmq, embedded", o.brokerMode))
}

func (o runOptions) engineConfig(d broker.Dialer, kind, note string, log *slog.Logger, sc *scenario.Scenario) (engine.Config, error) {
	cfg := engine.Config{
		Dialer: d, BrokerKind: kind, BrokerNote: note, QueueType: o.queueType, Namespace: o.namespace, Process: o.process,
		Seed: o.seed, EmailSink: o.emailSink, RecentOrders: o.recentOrders, MaxBacklog: o.maxBacklog, Logger: log,
		IdempotencyKeys: o.idemKeys, IdempotencyTTL: o.idemTTL, ManagementURL: o.managementURL(),
		AdminToken: o.adminToken(), AdminInsecure: o.insecureAdmin && o.adminToken() == "", ManagementTLS: o.tlsConf,
		// The flags' values (typed or default); a scenario's broker:
		// section replaces them below unless the flag was typed.
		BodyBytes: o.bodyBytes, Transient: !o.persistent, Connections: o.connections,
		Stages: map[string]engine.StageConfig{},
	}
	for _, r := range strings.Split(o.roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.Roles = append(cfg.Roles, r)
		}
	}
	if sc != nil {
		loadgen.ApplyToConfig(sc, &cfg)
	}
	// Flags the user set win over the scenario; the others give way.
	var errs []error
	if o.changed("body-bytes") {
		cfg.BodyBytes = o.bodyBytes
	}
	if cfg.BodyBytes < 0 || cfg.BodyBytes > engine.MaxMessageBytes {
		errs = append(errs, fmt.Errorf("--body-bytes %d: must be 0 (the order JSON as it is) to %d", cfg.BodyBytes, engine.MaxMessageBytes))
	}
	if o.changed("persistent") {
		cfg.Transient = !o.persistent
	}
	if o.changed("connections") {
		cfg.Connections = o.connections
	}
	if !slices.Contains(engine.ConnLayouts, cfg.Connections) {
		errs = append(errs, fmt.Errorf("--connections %q: valid are %s", cfg.Connections, strings.Join(engine.ConnLayouts, ", ")))
	}
	for name, sf := range o.stages {
		st, ok := cfg.Stages[name]
		if !ok {
			st = engine.DefaultStageConfig()
		}
		if o.changed(name+"-workers") || sc == nil {
			st.Workers = sf.workers
		}
		if o.changed(name+"-prefetch") || sc == nil {
			st.Prefetch = sf.prefetch
		}
		if o.changed(name+"-service-time") || sc == nil {
			dist, err := engine.ParseDist(sf.serviceTime)
			if err != nil {
				errs = append(errs, fmt.Errorf("--%s-service-time: %w", name, err))
			}
			st.ServiceTime = dist
		}
		cfg.Stages[name] = st
	}
	return cfg, errors.Join(errs...)
}

func newLogger(o runOptions) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if o.logFile != "" {
		open := func(p string) (*os.File, error) { return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) }
		if o.privateLog {
			open = openPrivateLog
		}
		f, err := open(o.logFile)
		if err != nil {
			return nil, nil, exitWith(exitUsage, fmt.Errorf("--log-file: %w", err))
		}
		w, closeFn = f, func() { f.Close() }
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		closeFn()
		return nil, nil, exitWith(exitUsage, fmt.Errorf("--log-level %q: valid are debug, info, warn, error", o.logLevel))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}

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
	ctx, log, done, err := setupProcess(parent, o)
	if err != nil {
		return err
	}
	defer done()
	p, err := startPipeline(ctx, o, sc, log)
	if err != nil {
		return err
	}
	defer p.eng.Close() // idempotent: also on a panic
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

// runHeadless runs the scenario with progress lines, or, without one,
// prints a status line every few seconds until interrupted.
func runHeadless(ctx context.Context, o runOptions, sc *scenario.Scenario, eng *engine.Engine, runner *loadgen.Runner) (*loadgen.Report, error) {
	if sc == nil {
		statusLoop(ctx, eng, o.statusEvery, os.Stdout)
		return nil, nil
	}
	rep, err := runner.Run(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Print(rep.Text())
	return rep, nil
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
	for _, t := range rep.Thresholds {
		if !t.Pass {
			parts = append(parts, fmt.Sprintf("%s (observed %s)", t.Threshold, t.Display))
		}
	}
	return strings.Join(parts, "; ")
}

// loopbackAddr turns a listen address into one to dial locally.
func loopbackAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1:" + port
	}
	return a
}

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// serveHTTP listens (so a taken port fails now, not later) and serves in
// the background.
func serveHTTP(addr string, h http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", addr, err)
	}
	// Addr is what was bound, so ":0" shows the port it got.
	srv := &http.Server{
		Addr: ln.Addr().String(), Handler: h,
		// A slow or idle client cannot hold a connection (and a
		// goroutine) for ever. WriteTimeout leaves room for an order's
		// confirm (publishTimeout, 5 s) and a large snapshot.
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	return srv, nil
}

// shutdown stops accepting requests, lets those in flight finish (they
// wait for their confirms), then drains the engine.
func shutdown(srv *http.Server, eng *engine.Engine, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	eng.Close()
}

// statusLoop prints a one-line status every interval until ctx ends.
func statusLoop(ctx context.Context, eng *engine.Engine, every time.Duration, w io.Writer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintln(w, statusLine(eng.Snapshot()))
		}
	}
}

// statusLine summarises a snapshot on one line.
func statusLine(s engine.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s accepted %d (%.0f/s) open %d confirmed %d failed %d refunded %d dead %d",
		s.Time.Format("15:04:05"), s.Orders.Accepted, s.AcceptRate, s.Orders.Open, s.Orders.Confirmed,
		s.Orders.PaymentFailed, s.Orders.Refunded, s.Orders.DeadLettered)
	if n := s.Orders.Recovered + s.Orders.Orphaned; n > 0 {
		fmt.Fprintf(&b, " recovered %d orphaned %d", s.Orders.Recovered, s.Orders.Orphaned)
	}
	if s.API.Shed > 0 || s.API.Unavailable > 0 {
		fmt.Fprintf(&b, " | 503: shed %d unavailable %d", s.API.Shed, s.API.Unavailable)
	}
	if s.Admission.Shedding {
		fmt.Fprintf(&b, " SHEDDING (backlog %d > %d)", s.Admission.Backlog, s.Admission.MaxBacklog)
	}
	for i, st := range s.Stages {
		fmt.Fprintf(&b, " | %s w%d q%d %.0f/s ρ%.0f%%", st.Name, st.Running, s.Queues[i].Ready, st.Rate1s, st.Utilisation*100)
	}
	if s.E2ERecent.Count > 0 {
		fmt.Fprintf(&b, " | e2e p99 %v (last 5-10 s)", s.E2ERecent.P99)
	} else if s.E2E.Count > 0 {
		fmt.Fprintf(&b, " | e2e p99 %v (whole run; none ended lately)", s.E2E.P99)
	}
	if !s.Broker.Connected {
		b.WriteString(" | RECONNECTING")
	}
	if strings.Contains(s.Broker.URL, ",") {
		b.WriteString(" | on " + s.Broker.NodesLine())
	}
	if s.Broker.Kind == "embedded" {
		b.WriteString(" | EMBEDDED BROKER")
	}
	return b.String()
}
