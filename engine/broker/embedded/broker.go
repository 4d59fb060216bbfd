package embedded

import (
	"context"
	"sync"

	"oms-sim/engine/broker"
)

var (
	_ broker.Dialer  = (*Broker)(nil)
	_ broker.Conn    = (*conn)(nil)
	_ broker.Channel = (*channel)(nil)
)

// Broker is an in-process message broker. Create one with New, open
// connections with Dial and stop it with Close. It is safe for concurrent use.
//
// One mutex guards all state. Nothing is ever sent to a client while it is
// held: deliveries go through a per-consumer goroutine (see consumer.go), so
// a slow consumer can never stall the broker.
type Broker struct {
	mu        sync.Mutex
	closed    bool
	exchanges map[string]*exchange
	queues    map[string]*queue
	conns     map[*conn]struct{}
	nextTag   uint64         // for server-generated consumer tags
	wg        sync.WaitGroup // consumer goroutines
}

// New returns an empty running broker with no exchanges or queues.
func New() *Broker {
	return &Broker{
		exchanges: make(map[string]*exchange),
		queues:    make(map[string]*queue),
		conns:     make(map[*conn]struct{}),
	}
}

// Describe returns "embedded", so reports and the dashboard can say which
// broker is in use.
func (b *Broker) Describe() string { return "embedded" }

// Dial opens a connection. name only matters to a real broker's management
// UI and is ignored here. Dial fails with broker.ErrClosed once the
// broker is closed.
func (b *Broker) Dial(ctx context.Context, name string) (broker.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, broker.ErrClosed
	}
	c := &conn{
		b:        b,
		channels: make(map[*channel]struct{}),
		closed:   make(chan struct{}),
	}
	b.conns[c] = struct{}{}
	return c, nil
}

// KillConnections drops every open connection abruptly, as if the network
// had failed: each connection's Closed fires with Err reporting
// ErrConnectionLost, delivery channels close and unacknowledged messages go
// back to the head of their queues with Redelivered set. Publishing is
// synchronous, so no confirmation is ever left pending to fail. Queues,
// exchanges and their messages survive, and new connections can be dialled
// at once.
func (b *Broker) KillConnections() {
	for _, c := range b.openConns() {
		c.shutdown(ErrConnectionLost)
	}
}

// Close closes every connection (their Err reports ErrShutdown), stops all
// timers and waits for every consumer goroutine to exit. It is idempotent and
// always returns nil.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	for _, c := range b.openConns() {
		c.shutdown(ErrShutdown)
	}
	b.mu.Lock()
	for _, q := range b.queues {
		q.stopTimer()
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

func (b *Broker) openConns() []*conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		out = append(out, c)
	}
	return out
}
