package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"oms-sim/loadgen"
)

// run is one fault in one layout.
type run struct {
	o       options
	mode    string
	state   string // --state for every process ("": not passed)
	ns      string
	dir     string
	proxies []*toxiproxy.Proxy // [0] AMQP, [1] stream
	procs   map[string]*proc
	front   *proc
	// endedAtApply is the orders ended just before a kill.
	endedAtApply int64
}

func runOne(ctx context.Context, o options, mode string, f fault, state string) (res result) {
	res = result{mode: mode, fault: f.name, state: state, recovery: -1}
	r := &run{o: o, mode: mode, state: state, procs: map[string]*proc{}}
	r.ns = fmt.Sprintf("chaos-%d-%s-%s%s", os.Getpid(), mode, slug(f.name), stateSlug(state))
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
	for _, t := range rep.Thresholds {
		if !t.Pass {
			res.failedThresholds = append(res.failedThresholds, t.Threshold)
		}
	}
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
	return r.linkToxics()
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
	return r.linkToxics()
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
	body, err := scenarioBody(r.o, runFor)
	if err != nil {
		return err
	}
	if err := os.WriteFile(sc, body, 0o644); err != nil {
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
