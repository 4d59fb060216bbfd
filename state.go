package main

import (
	"context"
	"errors"
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

// openState opens the shared state --state names; nil (and a no-op
// close) for memory. A database that does not answer is exit 3; a bad
// URL, or a schema this build cannot use, exit 2.
func openState(ctx context.Context, o runOptions) (engine.State, func(), error) {
	if !o.sharedState() {
		return nil, func() {}, nil
	}
	st, err := pgstate.Open(ctx, strings.TrimSpace(o.stateURL), pgstate.Options{
		Flag: o.stateFlag(), Namespace: o.namespace, KeyTTL: o.idemTTL,
	})
	switch {
	case err == nil:
		return st, st.Close, nil
	case errors.Is(err, engine.ErrStateUnreachable):
		return nil, nil, exitWith(exitUnreachable, err)
	}
	return nil, nil, exitWith(exitUsage, err)
}
