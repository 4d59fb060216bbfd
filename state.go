package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"oms-sim/engine"
	"oms-sim/engine/pgstate"
)

// The domain state (--state, issue 17): memory, each process its own, or
// a PostgreSQL database every process of a pipeline shares.

// defaultStateURL is --state's default: OMS_STATE_URL, else memory.
func defaultStateURL() string {
	if u := strings.TrimSpace(os.Getenv("OMS_STATE_URL")); u != "" {
		return u
	}
	return engine.StateMemory
}

// stateFlag names the setting in messages: the flag, or the environment
// variable when the flag kept the default it gave.
func (o runOptions) stateFlag() string {
	if (o.changed == nil || !o.changed("state")) && os.Getenv("OMS_STATE_URL") != "" {
		return "--state (OMS_STATE_URL)"
	}
	return "--state"
}

// sharedState reports whether --state names a database.
func (o runOptions) sharedState() bool { return strings.TrimSpace(o.stateURL) != engine.StateMemory }

// checkState checks --state before anything is dialled: memory or a
// postgres:// URL that parses (an error here is exit 2).
func (o runOptions) checkState() error {
	if !o.sharedState() {
		return nil
	}
	_, err := pgstate.ParseURL(o.stateFlag(), strings.TrimSpace(o.stateURL))
	return err
}

// poolWarning says when the shared state's pool has fewer connections
// than the stage workers this process runs: each holds one for the whole
// handling of a message, so the others wait for one.
func poolWarning(st engine.State, cfg engine.Config) string {
	pg, ok := st.(*pgstate.Store)
	if !ok {
		return ""
	}
	workers := 0
	for name, sc := range cfg.Stages {
		if cfg.HasRole(name) || len(cfg.Roles) == 0 {
			workers += sc.Workers
		}
	}
	if workers <= pg.MaxConns() {
		return ""
	}
	return fmt.Sprintf("the state's pool holds %d connections and this process runs %d stage workers, each holding one while it handles a message: workers will wait for one (add ?pool_max_conns=%d to --state; PostgreSQL's max_connections bounds all processes together)",
		pg.MaxConns(), workers, workers+8)
}

// openState opens the shared state --state names; nil (and a no-op
// close) for memory. A database that does not answer is exit 3; a bad
// URL, or a schema this build cannot use, exit 2.
func openState(ctx context.Context, o runOptions) (engine.State, func(), error) {
	if !o.sharedState() {
		return nil, func() {}, nil
	}
	st, err := pgstate.Open(ctx, strings.TrimSpace(o.stateURL), pgstate.Options{
		Flag: o.stateFlag(), Namespace: o.namespace, KeyTTL: o.idemTTL, MaxKeys: o.idemKeys,
	})
	switch {
	case err == nil:
		return st, st.Close, nil
	case errors.Is(err, engine.ErrStateUnreachable):
		return nil, nil, exitWith(exitUnreachable, err)
	}
	return nil, nil, exitWith(exitUsage, err)
}
