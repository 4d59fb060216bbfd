package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"oms-sim/engine/broker"
	"oms-sim/internal/backoff"
)

// startSessions starts the broker sessions of the API publisher, the
// stages this process runs and the monitor, on the connections the layout
// asks for (Config.Connections).
func (e *Engine) startSessions(ctx context.Context) {
	var stages []*stage
	for _, name := range e.stageNames {
		if e.cfg.HasRole(name) {
			stages = append(stages, e.stages[name])
		}
	}
	if e.cfg.Connections == ConnShared {
		var parts []session
		if e.cfg.HasRole(RoleAPI) {
			parts = append(parts, e.pub.session)
		}
		for _, s := range stages {
			parts = append(parts, s.session)
		}
		e.goSupervise(ctx, &e.wg, "shared", together(append(parts, e.mon.session)...))
		return
	}
	if e.cfg.HasRole(RoleAPI) {
		e.goSupervise(ctx, &e.wg, "api", e.pub.session)
	}
	for _, s := range stages {
		if e.cfg.Connections == ConnPerWorker {
			// Each worker supervises a connection of its own; begin
			// starts them now, so Start waits for their connections too.
			s.begin(nil)
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				<-ctx.Done()
				s.end()
			}()
			continue
		}
		e.goSupervise(ctx, &e.wg, s.name, s.session)
	}
	e.goSupervise(ctx, &e.wg, "monitor", e.mon.session)
}

// session is a part of the engine that runs on a broker connection until
// the connection is lost (it returns why) or ctx ends (it returns nil once
// it has finished its work in flight).
type session func(ctx context.Context, conn broker.Conn) error

// together runs sessions side by side on one connection (the shared
// layout). When one of them ends — its connection or one of its channels
// was lost — the others are stopped too and the first error is returned,
// so the supervisor reconnects them all.
func together(sessions ...session) session {
	return func(ctx context.Context, conn broker.Conn) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make(chan error, len(sessions))
		for _, run := range sessions {
			go func() { errs <- run(ctx, conn) }()
		}
		err := <-errs
		cancel()
		for range len(sessions) - 1 {
			if e := <-errs; err == nil {
				err = e
			}
		}
		return err
	}
}

// goSupervise runs supervise in the background, owned by wg and counted
// in e.expected while it runs (counted at once, not in the goroutine:
// Connected must see it immediately).
func (e *Engine) goSupervise(ctx context.Context, wg *sync.WaitGroup, name string, run session) {
	e.expected.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer e.expected.Add(-1)
		e.supervise(ctx, name, run)
	}()
}

// supervise runs run on a fresh connection named process/name, again and
// again with backoff whenever the connection is lost, until ctx ends. The
// caller counts it in e.expected.
func (e *Engine) supervise(ctx context.Context, name string, run session) {
	defer e.outage.Gone(name)
	wait := backoff.Min
	first := true
	for ctx.Err() == nil {
		conn, err := e.dialAndDeclare(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.setLastError(fmt.Sprintf("%s: reconnecting in %v: %v", name, wait, err))
			e.outage.Failed(name, err, wait)
			backoff.Sleep(ctx, wait)
			wait = backoff.Next(wait)
			continue
		}
		if !first {
			e.reconnects.Add(1)
		}
		e.outage.Up(name)
		first = false
		wait = backoff.Min
		e.sessions.Add(1)
		e.live.set(name, conn)
		err = run(ctx, conn)
		e.live.set(name, nil)
		e.sessions.Add(-1)
		conn.Close()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = broker.ErrClosed
		}
		e.reportError("", "", fmt.Sprintf("%s connection lost: %v", name, err))
		e.outage.Lost(name, err)
		backoff.Sleep(ctx, wait)
	}
}

func (e *Engine) dialAndDeclare(ctx context.Context, name string) (broker.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := e.cfg.Dialer.Dial(dctx, e.cfg.Process+"/"+name)
	if err != nil {
		return nil, err
	}
	if err := conn.Declare(dctx, e.topology()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("declare topology: %w", err)
	}
	return conn, nil
}
