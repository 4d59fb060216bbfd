// Command chaos puts a live oms-sim through faults and audits every run:
// network faults through a Toxiproxy (in process) in front of the
// broker's AMQP and stream ports, a broker restart, connections closed by
// the broker, and kill -9 of a role's process. scripts/chaos.sh builds
// oms-sim and runs it; see that script and README ("Faults").
//
// Each run is one fault in one layout, on a namespace of its own: the
// pipeline in one process ("single"), or split ("split": the API, payment
// and the load in one process, payment again in a second, inventory and
// email in two more; "split-api": the same with the load and its audit in
// a process of their own, --role none --target the API process, so that
// the API's process can be killed too). A scenario sends orders at a steady rate; the fault
// starts after a warm-up and lasts its hold; the run's report (the audit
// over the event stream) gives the orders accepted, lost, duplicated and
// redone. The recovery time is from the fault's end (for a kill, the
// kill) to 20 more orders ended. It prints a table and exits 1 if any run
// lost or duplicated an order, or did not finish.
//
// --state (repeatable) runs every fault once per state (oms-sim's --state
// for every process of the run: memory, or postgres://… with a schema per
// run's namespace, dropped after it) and prints them side by side with
// the audit's ledger: the exactly-once lesson (scripts/exactly-once.sh).
// A run with a postgres state that charged an order twice fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/loadgen"
)

type options struct {
	binary    string
	amqpURL   string
	streamURL string
	mgmt      string // the broker's management API
	stopNode  string
	startNode string
	modes     string
	only      string
	rate      int
	short     bool
	heartbeat int // seconds, for the AMQP connections (through the URL)
	keep      bool
	out       string
	// states are the --state values, each run once per fault; none: the
	// flag is not passed (the binary's default).
	states stateList
	// amqpLatency is a latency toxic on the AMQP link (each way) for the
	// whole run, under the faults: confirms and acks take that much
	// longer while events reach the stream as fast as ever, so a kill
	// finds more work charged, recorded and not yet acked.
	amqpLatency time.Duration
	// scenario gives the runs' stages, catalog, order mix and thresholds
	// (its phases are replaced by one steady phase at --rate).
	scenario string
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "", "the oms-sim binary (required)")
	flag.StringVar(&o.amqpURL, "amqp", "amqp://guest:guest@localhost:5673/", "the broker's AMQP URL (default: the 4.0 node of scripts/rabbitmq.sh single)")
	flag.StringVar(&o.streamURL, "stream-url", "rabbitmq-stream://guest:guest@localhost:5553/", "the broker's stream URL")
	flag.StringVar(&o.mgmt, "mgmt", "http://guest:guest@localhost:15673/", "the broker's management API (connections closed)")
	flag.StringVar(&o.stopNode, "stop-node", "scripts/rabbitmq.sh single stop-node", "command that stops the broker (broker-restart)")
	flag.StringVar(&o.startNode, "start-node", "scripts/rabbitmq.sh single start-node", "command that starts it again and waits until it answers")
	flag.StringVar(&o.modes, "modes", "single,split,split-api", "layouts: single, split, split-api (the load apart from the API: for kill -9 api)")
	flag.StringVar(&o.only, "faults", "", "comma-separated faults to run (default: all, or the short set)")
	flag.IntVar(&o.rate, "rate", 100, "orders per second")
	flag.BoolVar(&o.short, "short", false, "CI's version: a few faults, shorter runs")
	flag.IntVar(&o.heartbeat, "heartbeat", 2, "AMQP heartbeat in seconds (a half-open link is noticed within two)")
	flag.BoolVar(&o.keep, "keep", false, "keep each run's namespace and output directory")
	flag.StringVar(&o.out, "out", "", "also write the table (markdown) to this file")
	flag.Var(&o.states, "state", "oms-sim --state for every process: memory or postgres://…; repeat it to run each fault once per state, side by side (default: not passed)")
	flag.DurationVar(&o.amqpLatency, "amqp-latency", 0, "latency added each way on the AMQP link (not the stream's) for the whole run, e.g. 50ms: widens the window between a charge recorded and its ack")
	flag.StringVar(&o.scenario, "scenario", "", "a scenario file or shipped name whose stages, catalog, orders and thresholds the runs use (phases: one, at --rate)")
	flag.Parse()
	if o.binary == "" {
		fmt.Fprintln(os.Stderr, "chaos: --binary is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(o.binary)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	binaryPath = abs
	if err := checkBroker(o); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(3)
	}
	if err := checkStates(o); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(3)
	}
	if o.scenario != "" {
		if _, err := scenarioBody(o, time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			os.Exit(2)
		}
	}
	// A signal ends the current run's fault and processes, then the table.
	ctx, stop := signalContext()
	defer stop()

	var results []result
	for _, mode := range strings.Split(o.modes, ",") {
		for _, f := range faults(o) {
			if !f.wanted(o, mode) {
				continue
			}
			for _, state := range o.states.orNone() {
				if ctx.Err() != nil {
					break
				}
				what := mode + " / " + f.name + stateSuffix(state)
				fmt.Fprintf(os.Stderr, "chaos: %s ...\n", what)
				r := runOne(ctx, o, mode, f, state)
				fmt.Fprintf(os.Stderr, "chaos: %s: %s\n", what, r.line())
				results = append(results, r)
			}
		}
	}
	table := render(o, results)
	if len(o.states) > 0 {
		table += sideBySide(o, results)
	}
	fmt.Print(table)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
		}
	}
	failed := ctx.Err() != nil
	for _, r := range results {
		if !r.ok() {
			failed = true
		}
	}
	if failed {
		fmt.Fprintln(os.Stderr, "chaos: FAILED: a run lost or duplicated an order, charged one twice with a postgres state, or did not finish (or was interrupted)")
		os.Exit(1)
	}
}

func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "chaos: interrupted; undoing the fault and stopping")
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// checkBroker fails early, saying so, when the broker does not answer.
func checkBroker(o options) error {
	c, err := amqp.DialConfig(o.amqpURL, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("no broker at %s: %v (scripts/rabbitmq.sh single up)", redact(o.amqpURL), err)
	}
	return c.Close()
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// result is one run's line of the table.
type result struct {
	mode, fault string
	state       string // --state; "" when not passed
	audit       loadgen.Audit
	refused     int64 // sends not accepted (503s, refused connections)
	// failedThresholds are the scenario's thresholds the run failed.
	failedThresholds []string
	recovery         time.Duration
	err              error
}

// ok: nothing lost or duplicated and, with the shared state, no order
// charged twice (memory state charges twice by design: the lesson).
func (r result) ok() bool {
	return r.err == nil && r.audit.Lost == 0 && r.audit.Duplicated == 0 &&
		(!isPostgres(r.state) || r.audit.Ledger.DoubleCharges == 0)
}

func (r result) line() string {
	if r.err != nil {
		return "FAILED: " + r.err.Error()
	}
	lg := r.audit.Ledger
	return fmt.Sprintf("accepted %d, lost %d, duplicated %d, redone %d, double charges %d, inbox hits %d, stock unbalanced %d, not accepted %d, recovery %s",
		r.audit.Accepted, r.audit.Lost, r.audit.Duplicated, r.audit.Redone, lg.DoubleCharges, lg.InboxHits, lg.Stock.Unbalanced,
		r.refused, fmtDur(r.recovery))
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func render(o options, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| layout | fault | accepted | lost | duplicated | redone | double charges | not accepted | recovery |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		name := r.fault + stateSuffix(r.state)
		if r.err != nil {
			fmt.Fprintf(&b, "| %s | %s | FAILED: %s | | | | | | |\n", r.mode, name, strings.ReplaceAll(r.err.Error(), "|", "/"))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %s |\n", r.mode, name, r.audit.Accepted, r.audit.Lost,
			r.audit.Duplicated, r.audit.Redone, r.audit.Ledger.DoubleCharges, r.refused, fmtDur(r.recovery))
	}
	fmt.Fprintf(&b, "\n%d/s offered", o.rate)
	if o.amqpLatency > 0 {
		fmt.Fprintf(&b, " with %v added each way on the AMQP link", o.amqpLatency)
	}
	fmt.Fprintf(&b, "; recovery: from the fault's end (a kill: the kill) to 20 more orders ended; not accepted: sends answered 503 or refused (never accepted, so never owed); double charges: orders charged more than once (the audit's ledger).\n")
	return b.String()
}
