package engine

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"oms-sim/engine/broker"
)

// The broker's side of the story: whether it throttles our publishers
// (connection.blocked) and, for a broker on this host, how much CPU its
// Erlang VM uses. Together with the confirm latency they tell a run held
// back by the broker from one held back by a stage or by oms-sim itself.

// liveConns remembers the engine's connected sessions by name.
type liveConns struct {
	mu sync.Mutex
	m  map[string]broker.Conn
}

func (l *liveConns) set(name string, c broker.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]broker.Conn{}
	}
	if c == nil {
		delete(l.m, name)
		return
	}
	l.m[name] = c
}

// blocked reports whether the broker blocks any of the connections, and
// why.
func (l *liveConns) blocked() (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.m {
		if b, ok := c.(broker.Blocker); ok {
			if on, why := b.Blocked(); on {
				return true, why
			}
		}
	}
	return false, ""
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's CPU times:
// 100 on every architecture Go supports on Linux.
const clockTicks = 100

// cpuMeter turns a process's cumulative CPU time into cores used between
// two samples.
type cpuMeter struct {
	read   func() (time.Duration, bool)
	last   time.Duration
	lastAt time.Time
	cores  float64 // -1: unknown
}

func newCPUMeter(read func() (time.Duration, bool)) *cpuMeter {
	return &cpuMeter{read: read, cores: -1}
}

// sample takes a reading; false when the process could not be read.
func (m *cpuMeter) sample(now time.Time) bool {
	if m.read == nil {
		return false
	}
	used, ok := m.read()
	if !ok {
		m.cores, m.lastAt = -1, time.Time{}
		return false
	}
	if !m.lastAt.IsZero() && now.After(m.lastAt) {
		m.cores = float64(used-m.last) / float64(now.Sub(m.lastAt))
	}
	m.last, m.lastAt = used, now
	return true
}

// selfCPU reads this process's CPU time.
func selfCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// ProcCPU reads a process's CPU time (user + system) from /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 { // fields 3.. ; utime and stime are 14 and 15
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// machineCPU reads the CPU time all processes of this host have used
// (user, nice, system, irq, softirq and steal from /proc/stat).
func machineCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// localBrokerPID finds the Erlang VM (beam.smp) of a RabbitMQ on this
// host that listens on the AMQP URL's port: the one holding that listening
// socket, or the only beam.smp there is when sockets cannot be read. 0
// when the broker is not local or cannot be found.
func localBrokerPID(amqpURL string) int {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return 0
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5672"
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	beams := BeamPIDs()
	if len(beams) == 0 {
		return 0
	}
	inodes := listeningInodes(p)
	for _, pid := range beams {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && inodes[l] {
				return pid
			}
		}
	}
	if len(beams) == 1 {
		return beams[0]
	}
	return 0
}

// BeamPIDs lists the Erlang VMs (beam.smp: a RabbitMQ node) on this host.
func BeamPIDs() []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var out []int
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || strings.TrimSpace(string(b)) != "beam.smp" {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// listeningInodes returns "socket:[inode]" of the TCP sockets listening on
// port, as /proc/PID/fd links name them.
func listeningInodes(port int) map[string]bool {
	out := map[string]bool{}
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			// sl local_address rem_address st ... inode (field 10)
			if len(fs) > 9 && strings.HasSuffix(fs[1], want) && fs[3] == "0A" {
				out["socket:["+fs[9]+"]"] = true
			}
		}
		file.Close()
	}
	return out
}

// noder is a connection that knows which node of the broker it is on.
type noder interface{ Node() string }

// nodes returns the node each connected session is on (session name →
// host:port), nil when the connections cannot tell (embedded broker).
func (l *liveConns) nodes() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out map[string]string
	for name, c := range l.m {
		if n, ok := c.(noder); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = n.Node()
		}
	}
	return out
}
