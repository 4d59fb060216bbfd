package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

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

// removeToxics ends a fault by removing every toxic (the links stay),
// then puts back the run's own AMQP latency (--amqp-latency).
func removeToxics(r *run) error {
	for _, p := range r.proxies {
		p.Toxics.ResetToxics(context.Background())
	}
	return r.linkToxics()
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
