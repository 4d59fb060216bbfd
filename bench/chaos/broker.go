package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine"
	"oms-sim/engine/streamlog"
)

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
	r.dropState()
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
