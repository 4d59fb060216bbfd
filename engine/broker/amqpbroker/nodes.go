package amqpbroker

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"

	"oms-sim/engine/broker"
)

// nodes is the list of broker URLs a Dialer connects to: one, or the
// nodes of a cluster given as a comma-separated list (a comma inside a
// password must be written %2C). Each dial starts with the node after
// the previous dial's first choice, and the first choice of a Dialer is
// random, so the sessions of one process and of many spread over the
// cluster; a dial that finds its node down goes on to the next, so a
// reconnection lands on any node that answers.
type nodes struct {
	urls []string
	mu   sync.Mutex
	next int
}

func newNodes(raw string) *nodes {
	n := &nodes{urls: broker.SplitURLs(raw)}
	if len(n.urls) == 0 {
		n.urls = []string{raw} // amqp091 reports what is wrong with it
	}
	n.next = rand.IntN(len(n.urls))
	return n
}

// describe returns the list without passwords.
func (n *nodes) describe() string {
	return Redact(strings.Join(n.urls, ","))
}

// each calls dial with each URL in turn, from the next one on, until one
// succeeds; it returns every failure if none does. It stops early when
// ctx ends.
func (n *nodes) each(ctx context.Context, dial func(rawURL string) (*Conn, error)) (*Conn, error) {
	n.mu.Lock()
	start := n.next
	n.next = (n.next + 1) % len(n.urls)
	n.mu.Unlock()
	var errs []error
	for i := range n.urls {
		c, err := dial(n.urls[(start+i)%len(n.urls)])
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

// nodeName is the host:port a URL names, for showing which node a
// session is on.
func nodeName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "?"
	}
	if u.Port() == "" {
		port := "5672"
		if u.Scheme == "amqps" {
			port = "5671"
		}
		return u.Hostname() + ":" + port
	}
	return u.Host
}
