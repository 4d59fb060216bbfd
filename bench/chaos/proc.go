package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/streamlog"
	"oms-sim/internal/syncbuf"
	"oms-sim/loadgen"
)

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
		"--namespace", r.ns, "--process", r.ns + "-" + name}, r.stateArgs()...)
	args = append(args, extra...)
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
