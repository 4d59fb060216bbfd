package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The broker's load as RabbitMQ's management API reports it, for a broker
// this process cannot read from /proc (on another host, a cluster): each
// node's Erlang run queue (processes waiting for a scheduler: above the
// schedulers' count the broker is CPU-bound) and its resource alarms.

// ManagementURL derives the management API's base from an AMQP URL: same
// host and credentials, port 15672 (http, or https for amqps). It returns
// "" when the URL cannot be read.
func ManagementURL(amqpURL string) string {
	if i := strings.IndexByte(amqpURL, ','); i >= 0 {
		amqpURL = amqpURL[:i] // a list of nodes: the first one's
	}
	u, err := url.Parse(amqpURL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	scheme := "http"
	if u.Scheme == "amqps" {
		scheme = "https"
	}
	m := url.URL{Scheme: scheme, User: u.User, Host: u.Hostname() + ":15672", Path: "/api/"}
	if strings.Contains(u.Hostname(), ":") {
		m.Host = "[" + u.Hostname() + "]:15672"
	}
	return m.String()
}

// NodeLoad is the busiest node's figures from the management API.
type NodeLoad struct {
	// RunQueue is the longest Erlang run queue of the nodes, Schedulers
	// that node's processors; -1 when unknown.
	RunQueue   int `json:"run_queue"`
	Schedulers int `json:"schedulers"`
	// Alarms lists the resource alarms on: "memory on rabbit@a", …
	Alarms []string `json:"alarms,omitempty"`
}

// mgmtPoller polls the management API every pollEvery until stopped.
type mgmtPoller struct {
	base   string // with credentials; never printed
	client *http.Client

	// queues are the pipeline's queue names to read; connPrefix starts
	// this process's connection names.
	queues     []string
	connPrefix string

	mu   sync.Mutex
	load NodeLoad
	side BrokerSide
}

const mgmtEvery = 2 * time.Second

// newMgmtPoller polls base for the node's load and, for the queues named
// and this process's connections (names starting connPrefix), the
// broker-side figures; tlsConf (nil: the system's roots) is the broker's
// TLS settings, used for an https:// management API.
func newMgmtPoller(base string, tlsConf *tls.Config, queues []string, connPrefix string) *mgmtPoller {
	client := &http.Client{Timeout: time.Second}
	if tlsConf != nil {
		client.Transport = &http.Transport{TLSClientConfig: tlsConf.Clone(), Proxy: http.ProxyFromEnvironment}
	}
	return &mgmtPoller{base: base, client: client, load: NodeLoad{RunQueue: -1},
		queues: queues, connPrefix: connPrefix, side: sideOff("management API not read yet")}
}

// run polls until ctx ends.
func (p *mgmtPoller) run(ctx context.Context) {
	t := time.NewTicker(mgmtEvery)
	defer t.Stop()
	defer p.client.CloseIdleConnections() // no keep-alive goroutines outlive the engine
	for {
		l, err := p.poll(ctx)
		if err != nil {
			l = NodeLoad{RunQueue: -1}
		}
		side := p.pollSide(ctx)
		p.mu.Lock()
		p.load, p.side = l, side
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *mgmtPoller) get() NodeLoad {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.load
	l.Alarms = append([]string(nil), l.Alarms...)
	return l
}

// poll reads /api/nodes once. Its errors never carry the URL (it holds
// the password).
func (p *mgmtPoller) poll(ctx context.Context) (NodeLoad, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"nodes?columns=name,run_queue,processors,mem_alarm,disk_free_alarm,running", nil)
	if err != nil {
		return NodeLoad{}, fmt.Errorf("management API request: bad URL")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return NodeLoad{}, fmt.Errorf("management API unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return NodeLoad{}, fmt.Errorf("management API answered %s", resp.Status)
	}
	var nodes []struct {
		Name       string `json:"name"`
		RunQueue   int    `json:"run_queue"`
		Processors int    `json:"processors"`
		MemAlarm   bool   `json:"mem_alarm"`
		DiskAlarm  bool   `json:"disk_free_alarm"`
		Running    bool   `json:"running"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil {
		return NodeLoad{}, fmt.Errorf("management API: %w", err)
	}
	l := NodeLoad{RunQueue: -1}
	for _, n := range nodes {
		if !n.Running {
			continue
		}
		if n.RunQueue > l.RunQueue {
			l.RunQueue, l.Schedulers = n.RunQueue, n.Processors
		}
		if n.MemAlarm {
			l.Alarms = append(l.Alarms, "memory on "+n.Name)
		}
		if n.DiskAlarm {
			l.Alarms = append(l.Alarms, "disk on "+n.Name)
		}
	}
	return l, nil
}
