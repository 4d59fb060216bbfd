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
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rs/zerolog"

	"oms-sim/engine"
	"oms-sim/engine/streamlog"
	"oms-sim/internal/syncbuf"
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
	// A signal ends the current run's fault and processes, then the table.
	ctx, stop := signalContext()
	defer stop()

	var results []result
	for _, mode := range strings.Split(o.modes, ",") {
		for _, f := range faults(o) {
			if !f.wanted(o, mode) {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(os.Stderr, "chaos: %s / %s ...\n", mode, f.name)
			r := runOne(ctx, o, mode, f)
			fmt.Fprintf(os.Stderr, "chaos: %s / %s: %s\n", mode, f.name, r.line())
			results = append(results, r)
		}
	}
	table := render(o, results)
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
		fmt.Fprintln(os.Stderr, "chaos: FAILED: a run lost or duplicated an order, or did not finish (or was interrupted)")
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

// fault is one thing done to a running pipeline.
type fault struct {
	name     string
	split    bool   // split layout only (it kills one of its processes)
	apiApart bool   // split-api layout only (it kills the API's process)
	shortIn  string // the layout in which --short runs it ("": not in --short)
	hold     time.Duration
	// apply starts the fault; heal ends it (after hold). For a kill,
	// heal restarts the process and the recovery counts from the kill.
	apply, heal func(r *run) error
	fromApply   bool // recovery counts from apply, not heal
	runFor      time.Duration
}

func (f fault) wanted(o options, mode string) bool {
	if f.split && mode != "split" || f.apiApart != (mode == "split-api") {
		return false
	}
	if o.only != "" {
		for _, n := range strings.Split(o.only, ",") {
			if strings.TrimSpace(n) == f.name {
				return true
			}
		}
		return false
	}
	return !o.short || f.shortIn == mode
}

func toxics(specs ...string) func(r *run) error {
	return func(r *run) error {
		for _, p := range r.proxies {
			for _, s := range specs {
				if _, err := p.Toxics.AddToxicJson(strings.NewReader(s)); err != nil {
					return fmt.Errorf("toxic on %s: %w", p.Name, err)
				}
			}
		}
		return nil
	}
}

// clean replaces the proxies with new ones on the same addresses: their
// connections drop. Toxiproxy takes minutes to remove a latency toxic
// from a busy link; a reconnection takes a second.
func clean(r *run) error { return r.replaceProxies() }

// removeToxics ends a fault by removing every toxic (the links stay).
func removeToxics(r *run) error {
	for _, p := range r.proxies {
		p.Toxics.ResetToxics(context.Background())
	}
	return nil
}

func faults(o options) []fault {
	hb := time.Duration(o.heartbeat) * time.Second
	nothing := func(*run) error { return nil }
	return []fault{
		{name: "latency 200ms", hold: 6 * time.Second, apply: toxics(
			`{"name":"l","type":"latency","stream":"downstream","attributes":{"latency":200}}`,
			`{"name":"lu","type":"latency","stream":"upstream","attributes":{"latency":200}}`), heal: removeToxics},
		{name: "bandwidth 20KB/s", hold: 6 * time.Second, apply: toxics(
			`{"name":"b","type":"bandwidth","stream":"downstream","attributes":{"rate":20}}`), heal: removeToxics},
		{name: "reset_peer", shortIn: "single", hold: 2 * time.Second, apply: toxics(
			`{"name":"r","type":"reset_peer","stream":"downstream","attributes":{"timeout":0}}`), heal: removeToxics},
		{name: "half-open", shortIn: "split", hold: 3*hb + 2*time.Second, apply: toxics(
			`{"name":"h","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`), heal: removeToxics},
		{name: "slow broker (confirms 6s)", hold: 7 * time.Second, apply: func(r *run) error {
			_, err := r.proxies[0].Toxics.AddToxicJson(strings.NewReader(`{"name":"s","type":"latency","stream":"downstream","attributes":{"latency":6000}}`))
			return err
		}, heal: clean},
		{name: "broker restart", hold: 0, runFor: 75 * time.Second, apply: func(r *run) error {
			return r.command(o.stopNode)
		}, heal: func(r *run) error { return r.command(o.startNode) }},
		{name: "connections closed", shortIn: "single", hold: 0, fromApply: true, apply: func(r *run) error {
			n, err := r.ended()
			r.endedAtApply = n
			if err != nil {
				return err
			}
			return r.closeConnections()
		}, heal: nothing},
		{name: "kill -9 payment", split: true, shortIn: "split", hold: 5 * time.Second, fromApply: true,
			apply: func(r *run) error { return r.kill("pay") }, heal: func(r *run) error { return r.restart("pay") }},
		{name: "kill -9 inventory,email", split: true, hold: 5 * time.Second, fromApply: true,
			apply: func(r *run) error { return r.kill("back-1") }, heal: func(r *run) error { return r.restart("back-1") }},
		// The API's process (api,payment) dies under load: sends to it fail
		// until it is back on the same address; an order it had published
		// but not yet answered runs anyway and shows as orphaned (its key
		// died with the process's memory), never as lost.
		{name: "kill -9 api,payment", apiApart: true, shortIn: "split-api", hold: 5 * time.Second, fromApply: true,
			apply: func(r *run) error { return r.kill("api") }, heal: func(r *run) error { return r.restart("api") }},
	}
}

// result is one run's line of the table.
type result struct {
	mode, fault string
	audit       loadgen.Audit
	refused     int64 // sends not accepted (503s, refused connections)
	recovery    time.Duration
	err         error
}

func (r result) ok() bool { return r.err == nil && r.audit.Lost == 0 && r.audit.Duplicated == 0 }

func (r result) line() string {
	if r.err != nil {
		return "FAILED: " + r.err.Error()
	}
	return fmt.Sprintf("accepted %d, lost %d, duplicated %d, redone %d, not accepted %d, recovery %s",
		r.audit.Accepted, r.audit.Lost, r.audit.Duplicated, r.audit.Redone, r.refused, fmtDur(r.recovery))
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func render(o options, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| layout | fault | accepted | lost | duplicated | redone | not accepted | recovery |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		if r.err != nil {
			fmt.Fprintf(&b, "| %s | %s | FAILED: %s | | | | | |\n", r.mode, r.fault, strings.ReplaceAll(r.err.Error(), "|", "/"))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %s |\n", r.mode, r.fault, r.audit.Accepted, r.audit.Lost,
			r.audit.Duplicated, r.audit.Redone, r.refused, fmtDur(r.recovery))
	}
	fmt.Fprintf(&b, "\n%d/s offered; recovery: from the fault's end (a kill: the kill) to 20 more orders ended; not accepted: sends answered 503 or refused (never accepted, so never owed).\n", o.rate)
	return b.String()
}

// run is one fault in one layout.
type run struct {
	o       options
	mode    string
	ns      string
	dir     string
	proxies []*toxiproxy.Proxy // [0] AMQP, [1] stream
	procs   map[string]*proc
	front   *proc
	// endedAtApply is the orders ended just before a kill.
	endedAtApply int64
}

func runOne(ctx context.Context, o options, mode string, f fault) (res result) {
	res = result{mode: mode, fault: f.name, recovery: -1}
	r := &run{o: o, mode: mode, procs: map[string]*proc{}}
	r.ns = fmt.Sprintf("chaos-%d-%s-%s", os.Getpid(), mode, slug(f.name))
	var err error
	if r.dir, err = os.MkdirTemp("", "chaos-"); err != nil {
		res.err = err
		return res
	}
	defer r.cleanup()
	if err := r.startProxies(); err != nil {
		res.err = err
		return res
	}
	warm, after := 8*time.Second, 20*time.Second
	if o.short {
		warm, after = 5*time.Second, 15*time.Second
	}
	runFor := f.runFor
	if runFor == 0 {
		runFor = warm + f.hold + after
	}
	if err := r.startPipeline(runFor); err != nil {
		res.err = err
		return res
	}
	select {
	case <-time.After(warm):
	case <-ctx.Done():
		res.err = errors.New("interrupted")
		return res
	}
	applied := time.Now()
	if err := f.apply(r); err != nil {
		res.err = fmt.Errorf("apply: %w", err)
		_ = f.heal(r)
		return res
	}
	// Recovery: 20 more orders ended than at the fault's end — for a
	// kill or a close, than just before it, watched from then on.
	var recovered <-chan time.Duration
	if f.fromApply {
		recovered = r.watchRecovery(ctx, applied, r.endedAtApply)
	}
	select {
	case <-time.After(f.hold):
	case <-ctx.Done():
	}
	if err := f.heal(r); err != nil {
		res.err = fmt.Errorf("heal: %w", err)
		return res
	}
	if ctx.Err() != nil {
		res.err = errors.New("interrupted")
		return res
	}
	if !f.fromApply {
		healed := time.Now()
		base, err := r.ended()
		for err != nil && time.Since(healed) < 30*time.Second {
			time.Sleep(200 * time.Millisecond)
			base, err = r.ended()
		}
		if err != nil {
			res.err = fmt.Errorf("the front process's snapshot: %w", err)
			return res
		}
		recovered = r.watchRecovery(ctx, healed, base)
	}
	res.recovery = <-recovered
	rep, code, err := r.front.waitReport(ctx, runFor+3*time.Minute, filepath.Join(r.dir, "report.json"))
	if err != nil {
		res.err = err
		return res
	}
	res.audit = rep.Audit
	res.refused = notAccepted(rep)
	if code != 0 && res.audit.Lost == 0 && res.audit.Duplicated == 0 {
		fmt.Fprintf(os.Stderr, "chaos: %s / %s: the run exited %d (its thresholds: see %s)\n", mode, f.name, code, r.front.logPath)
	}
	if res.recovery < 0 && res.audit.Lost == 0 {
		res.err = errors.New("orders did not flow again within 90 s of the fault's end")
	}
	return res
}

// watchRecovery reports, once, how long after from the front process
// saw 20 more orders ended than base (-1: not within 90 s).
func (r *run) watchRecovery(ctx context.Context, from time.Time, base int64) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		deadline := from.Add(90 * time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if n, err := r.ended(); err == nil && n >= base+20 {
				out <- time.Since(from)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		out <- -1
	}()
	return out
}

// notAccepted is the sends the run's API did not accept.
func notAccepted(rep *loadgen.Report) int64 { return rep.Failed + rep.Shed }

func slug(s string) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func hostPort(raw, defPort string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), defPort), nil
	}
	return u.Host, nil
}

func (r *run) startProxies() error {
	amqpUp, err := hostPort(r.o.amqpURL, "5672")
	if err != nil {
		return err
	}
	streamUp, err := hostPort(r.o.streamURL, "5552")
	if err != nil {
		return err
	}
	for i, up := range []string{amqpUp, streamUp} {
		name := []string{"amqp", "stream"}[i]
		p := toxiproxy.NewProxy(newServer(), name, "127.0.0.1:0", up)
		if err := p.Start(); err != nil {
			return fmt.Errorf("start %s proxy: %w", name, err)
		}
		r.proxies = append(r.proxies, p)
	}
	return nil
}

func newServer() *toxiproxy.ApiServer {
	return toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
}

func (r *run) replaceProxies() error {
	for i, p := range r.proxies {
		p.Stop()
		np := toxiproxy.NewProxy(newServer(), p.Name, p.Listen, p.Upstream)
		var err error
		for range 50 { // the port may take a moment to be free again
			if err = np.Start(); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("restart %s proxy: %w", p.Name, err)
		}
		r.proxies[i] = np
	}
	return nil
}

// urls are the broker URLs through the proxies.
func (r *run) urls() (amqpURL, streamURL string) {
	a, _ := url.Parse(r.o.amqpURL)
	a.Host = r.proxies[0].Listen
	q := a.Query()
	q.Set("heartbeat", fmt.Sprint(r.o.heartbeat))
	a.RawQuery = q.Encode()
	s, _ := url.Parse(r.o.streamURL)
	s.Host = r.proxies[1].Listen
	return a.String(), s.String()
}

func (r *run) startPipeline(runFor time.Duration) error {
	sc := filepath.Join(r.dir, "chaos.yaml")
	body := fmt.Sprintf("name: chaos\nseed: 7\nphases: [{duration: %s, rate: %d/s}]\n", runFor, r.o.rate)
	if err := os.WriteFile(sc, []byte(body), 0o644); err != nil {
		return err
	}
	scenario := []string{"--scenario", sc, "--report", filepath.Join(r.dir, "report.json"), "--drain-timeout", "120s"}
	if r.mode == "single" {
		p, err := r.start("main", scenario...)
		r.front = p
		return err
	}
	for _, n := range []string{"back-1", "back-2"} {
		if _, err := r.start(n, "--role", "inventory,email"); err != nil {
			return err
		}
	}
	if _, err := r.start("pay", "--role", "payment"); err != nil {
		return err
	}
	if r.mode == "split-api" {
		// A fixed port: the API comes back where the load sends.
		addr, err := freePort()
		if err != nil {
			return err
		}
		if _, err := r.start("api", "--role", "api,payment", "--http", addr); err != nil {
			return err
		}
		p, err := r.start("front", append([]string{"--role", "none", "--target", "http://" + addr}, scenario...)...)
		r.front = p
		return err
	}
	p, err := r.start("front", append([]string{"--role", "api,payment"}, scenario...)...)
	r.front = p
	return err
}

// freePort returns a loopback address no one listens on now.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// proc is one oms-sim process of a run.
type proc struct {
	name, logPath string
	args          []string
	cmd           *exec.Cmd
	log           *os.File
	addr          string
	done          chan struct{}
	err           error
}

var apiLine = regexp.MustCompile(`API on http://(\S+)`)

func (r *run) start(name string, extra ...string) (*proc, error) {
	a, s := r.urls()
	args := append([]string{"--headless", "--http", "127.0.0.1:0", "--events", "stream", "--amqp", a, "--stream-url", s,
		"--namespace", r.ns, "--process", r.ns + "-" + name}, extra...)
	p := &proc{name: name, args: args, logPath: filepath.Join(r.dir, name+".log")}
	r.procs[name] = p // cleanup stops it, up or not
	// A node started (or restarted by the previous run) a moment ago may
	// not serve streams yet: a process that cannot set up its event log
	// exits 3; try twice more before calling the run failed.
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			fmt.Fprintf(os.Stderr, "chaos: %s: %v; starting it again in 5 s\n", name, err)
			if p.done != nil {
				select {
				case <-p.done:
				default: // up but silent: not ours any more
					_ = p.cmd.Process.Kill()
					<-p.done
				}
			}
			time.Sleep(5 * time.Second)
			p = &proc{name: name, args: args, logPath: p.logPath}
			r.procs[name] = p
		}
		if err = p.launch(); err == nil {
			return p, nil
		}
	}
	return nil, err
}

func (p *proc) launch() error {
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.log = f
	p.cmd = exec.Command(binaryPath, p.args...)
	p.cmd.Env = append(os.Environ(), streamlog.EnvViaURL+"=1")
	stderr := syncbuf.Buffer{Max: 64 << 10}
	p.cmd.Stderr = io.MultiWriter(f, &stderr)
	p.cmd.Stdout = f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return err
	}
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiLine.FindStringSubmatch(stderr.String()); m != nil {
			p.addr = m[1]
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before its API was up (%v): %s", p.name, p.err, tail(stderr.String()))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: API not up within 60 s: %s", p.name, tail(stderr.String()))
}

func tail(s string) string {
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return strings.TrimSpace(s)
}

// binaryPath is the oms-sim every run starts.
var binaryPath string

func (r *run) kill(name string) error {
	p := r.procs[name]
	if p == nil {
		return fmt.Errorf("no process %s", name)
	}
	n, err := r.ended()
	if err != nil {
		return err
	}
	r.endedAtApply = n
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	p.log.Close()
	return nil
}

func (r *run) restart(name string) error {
	p := r.procs[name]
	np := &proc{name: p.name, args: p.args, logPath: p.logPath}
	r.procs[name] = np
	return np.launch()
}

// ended is the orders ended so far, as the front process's ledger says.
func (r *run) ended() (int64, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.front.addr + "/api/snapshot")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var s engine.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return 0, err
	}
	o := s.Orders
	return o.Confirmed + o.PaymentFailed + o.Refunded + o.DeadLettered, nil
}

// command runs a shell command line (the broker's stop and start).
func (r *run) command(line string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", line).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", line, err, tail(string(out)))
	}
	return nil
}

// closeConnections has the broker close every AMQP connection of this
// run's processes at once (CONNECTION_FORCED), as an operator would from
// the management UI: through the management API, which is quick (a
// rabbitmqctl per connection boots an Erlang VM each).
func (r *run) closeConnections() error {
	base, err := url.Parse(r.o.mgmt)
	if err != nil {
		return err
	}
	c := http.Client{Timeout: 10 * time.Second}
	do := func(method, path string) (*http.Response, error) {
		u := *base
		u.Path = strings.TrimSuffix(u.Path, "/") + path
		req, err := http.NewRequest(method, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Reason", "chaos: connection closed")
		return c.Do(req)
	}
	resp, err := do("GET", "/api/connections")
	if err != nil {
		return fmt.Errorf("management API: %w", err)
	}
	var conns []struct {
		Name  string `json:"name"`
		Props struct {
			Name string `json:"connection_name"`
		} `json:"client_properties"`
	}
	err = json.NewDecoder(resp.Body).Decode(&conns)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("management API connections: %w", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	n := 0
	for _, cn := range conns {
		if !strings.HasPrefix(cn.Props.Name, r.ns+"-") {
			continue
		}
		n++
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := do("DELETE", "/api/connections/"+url.PathEscape(cn.Name))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound {
				errs <- fmt.Errorf("close %s: %s", cn.Props.Name, resp.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	if n == 0 {
		return errors.New("no connection of this run found on the broker")
	}
	fmt.Fprintf(os.Stderr, "chaos: the broker closed %d connections\n", n)
	return nil
}

// waitReport waits for the process that runs the scenario to end and
// reads its report.
func (p *proc) waitReport(ctx context.Context, limit time.Duration, path string) (*loadgen.Report, int, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		return nil, 0, errors.New("interrupted")
	case <-time.After(limit):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		return nil, 0, fmt.Errorf("the run did not end within %v (log %s)", limit, p.logPath)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, code, fmt.Errorf("no report (exit %d, log %s): %v", code, p.logPath, err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, code, err
	}
	return &rep, code, nil
}

// cleanup stops the run's processes and proxies and deletes its
// namespace.
func (r *run) cleanup() {
	for _, p := range r.procs {
		if p.done == nil {
			continue // never started
		}
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		p.log.Close()
	}
	for _, p := range r.proxies {
		p.Stop()
	}
	if r.o.keep {
		fmt.Fprintf(os.Stderr, "chaos: kept namespace %s and %s\n", r.ns, r.dir)
		return
	}
	if err := deleteNamespace(r.o.amqpURL, r.ns); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: delete namespace %s: %v\n", r.ns, err)
	}
	os.RemoveAll(r.dir)
}

func deleteNamespace(amqpURL, ns string) error {
	c, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return err
	}
	defer c.Close()
	names := engine.Names{Namespace: ns}
	topo := names.Topology("classic", engine.DefaultRetryDelays)
	queues := []string{names.Of(streamlog.DefaultStream), names.Of(streamlog.DefaultRunStream)}
	for _, q := range topo.Queues {
		queues = append(queues, q.Name)
	}
	for _, q := range queues {
		ch, err := c.Channel()
		if err != nil {
			return err
		}
		_, _ = ch.QueueDelete(q, false, false, false)
		_ = ch.Close()
	}
	for _, x := range topo.Exchanges {
		ch, err := c.Channel()
		if err != nil {
			return err
		}
		_ = ch.ExchangeDelete(x.Name, false, false)
		_ = ch.Close()
	}
	return nil
}
