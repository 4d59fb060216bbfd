package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/loadgen"
)

// runOptions are the flags of the main command.
type runOptions struct {
	httpAddr     string
	amqpURL      string
	amqpSet      bool
	stateURL     string
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
	memProfile   string
	execTrace    string
	statusEvery  time.Duration
	stages       map[string]*stageFlags
	bodyBytes    int
	persistent   bool
	writeBatch   bool
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
	f.StringVar(&o.stateURL, "state", defaultStateURL(), "domain state: memory (this process's own) or postgres://user:password@host:port/db, shared by every process of a pipeline and kept across restarts: charges, refunds, stock, the inbox of handled messages, Idempotency-Keys (env OMS_STATE_URL; scripts/postgres.sh url)")
	redactDefault(cmd, "state")
	f.StringVar(&o.brokerMode, "broker", "auto", "auto|rabbitmq|embedded: auto uses RabbitMQ when it answers, else the embedded broker")
	f.StringVar(&o.queueType, "queue-type", broker.Classic, "classic|quorum")
	f.StringVar(&o.namespace, "namespace", "", "prefix for every exchange and queue name (ns.orders, ns.oms.payment, …), to run separate pipelines on one broker")
	f.Uint64Var(&o.seed, "seed", 0, "random seed for declines, errors and service times (0: the scenario's, else from the clock; give every process of a split pipeline the same)")
	f.StringVar(&o.emailSink, "email-sink", "log", "where emails go: log, dir:PATH or smtp://host:port")
	f.IntVar(&o.recentOrders, "recent-orders", engine.DefaultRecentOrders, "orders kept in the trace store for timelines (memory is bounded by this; counts and latencies cover every order)")
	f.IntVar(&o.maxBacklog, "max-backlog", engine.DefaultMaxBacklog, "admission control: while the work queues hold more ready messages than this, POST /api/orders answers 503 + Retry-After (shed); 0 = off")
	f.IntVar(&o.idemKeys, "idempotency-keys", engine.DefaultIdempotencyKeys, "Idempotency-Keys of POST /api/orders remembered (oldest forgotten first; with --state postgres, the shared table's bound, pruned every minute); 0 ignores the header")
	f.DurationVar(&o.idemTTL, "idempotency-ttl", engine.DefaultIdempotencyTTL, "how long an Idempotency-Key is remembered at most")
	f.StringVar(&o.mgmtURL, "management-url", os.Getenv("OMS_MANAGEMENT_URL"), "RabbitMQ management API polled for the nodes' run queues and alarms (env OMS_MANAGEMENT_URL; default: the --amqp host and credentials, port 15672; off to disable)")
	redactDefault(cmd, "management-url")
	f.StringVar(&o.logFile, "log-file", "", "write logs to this file (default: stderr when headless, $TMPDIR/oms-sim.log with the dashboard)")
	f.StringVar(&o.logLevel, "log-level", "warn", "debug|info|warn|error")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to FILE (go tool pprof)")
	f.StringVar(&o.memProfile, "memprofile", "", "write the run's allocations to FILE at its end (go tool pprof -sample_index=alloc_space)")
	f.StringVar(&o.execTrace, "exectrace", "", "write a Go execution trace of the whole run to FILE (go tool trace; bench/schedwait reads why sends left late); tens of MB a minute at high rates")
	f.StringVar(&o.process, "process", defaultProcess(), "this process's name in events, traces and connection names")
	f.IntVar(&o.bodyBytes, "body-bytes", 0, "pad every message body to N bytes (0: the order JSON as it is, about 150 bytes; at most 16 MiB); overrides the scenario's broker.body_bytes")
	f.BoolVar(&o.persistent, "persistent", true, "publish persistent messages (delivery mode 2); --persistent=false publishes transient ones (mode 1); queues stay durable")
	f.BoolVar(&o.writeBatch, "write-batch", true, "gather each AMQP connection's frames into fewer write syscalls (fewer, larger writes: less CPU per order on both sides at high rates); --write-batch=false writes each publish and ack as it comes")
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
