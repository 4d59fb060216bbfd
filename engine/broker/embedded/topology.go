package embedded

import (
	"errors"
	"fmt"
	"slices"

	"oms-sim/engine/broker"
)

// exchange routes published messages to queues through its bindings.
type exchange struct {
	name     string
	kind     string
	bindings []binding
}

type binding struct {
	key string
	q   *queue
}

// matches reports whether a message with routing key key follows b.
func (e *exchange) matches(b binding, key string) bool {
	switch e.kind {
	case broker.Fanout:
		return true
	case broker.Direct:
		return b.key == key
	default:
		return broker.TopicMatch(b.key, key)
	}
}

// routeLocked returns the queues a message published to exchange name with
// routing key key reaches, each once. The empty name is AMQP's default
// exchange, which routes to the queue named by the key.
func (b *Broker) routeLocked(name, key string) ([]*queue, error) {
	if name == "" {
		if q, ok := b.queues[key]; ok {
			return []*queue{q}, nil
		}
		return nil, nil
	}
	ex, ok := b.exchanges[name]
	if !ok {
		return nil, fmt.Errorf("exchange %q: %w", name, ErrNotFound)
	}
	var out []*queue
	for _, bd := range ex.bindings {
		// Routed queues are few, so a linear duplicate check beats a map.
		if ex.matches(bd, key) && !slices.Contains(out, bd.q) {
			out = append(out, bd.q)
		}
	}
	return out, nil
}

// normalizeQueue fills defaults so that two declarations meaning the same
// thing compare equal.
func normalizeQueue(q broker.Queue) broker.Queue {
	if q.Type == "" {
		q.Type = broker.Classic
	}
	return q
}

// declareLocked validates all of t against itself and the existing state and
// applies it only if every part is valid, so a failed Declare changes nothing.
func (b *Broker) declareLocked(t broker.Topology) error {
	if err := b.validateLocked(t); err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	for _, e := range t.Exchanges {
		if _, ok := b.exchanges[e.Name]; !ok {
			b.exchanges[e.Name] = &exchange{name: e.Name, kind: e.Kind}
		}
	}
	for _, q := range t.Queues {
		if _, ok := b.queues[q.Name]; !ok {
			b.queues[q.Name] = newQueue(b, normalizeQueue(q))
		}
	}
	for _, bd := range t.Bindings {
		ex, q := b.exchanges[bd.Exchange], b.queues[bd.Queue]
		nb := binding{key: bd.Key, q: q}
		if !slices.Contains(ex.bindings, nb) {
			ex.bindings = append(ex.bindings, nb)
		}
	}
	return nil
}

func (b *Broker) validateLocked(t broker.Topology) error {
	var errs []error
	fail := func(path string, err error) { errs = append(errs, fmt.Errorf("%s: %w", path, err)) }

	kinds := make(map[string]string) // exchanges as they will be after t
	for name, e := range b.exchanges {
		kinds[name] = e.kind
	}
	for i, e := range t.Exchanges {
		path := fmt.Sprintf("exchanges[%d] %q", i, e.Name)
		switch {
		case e.Name == "":
			fail(path, fmt.Errorf("the default exchange cannot be declared: %w", ErrPreconditionFailed))
		case e.Kind != broker.Topic && e.Kind != broker.Direct && e.Kind != broker.Fanout:
			fail(path, fmt.Errorf("unknown kind %q: %w", e.Kind, ErrPreconditionFailed))
		case kinds[e.Name] != "" && kinds[e.Name] != e.Kind:
			fail(path, fmt.Errorf("inequivalent kind %q, exists as %q: %w", e.Kind, kinds[e.Name], ErrPreconditionFailed))
		default:
			kinds[e.Name] = e.Kind
		}
	}

	queues := make(map[string]broker.Queue) // queues as they will be after t
	for name, q := range b.queues {
		queues[name] = q.cfg
	}
	for i, q := range t.Queues {
		path := fmt.Sprintf("queues[%d] %q", i, q.Name)
		q = normalizeQueue(q)
		old, exists := queues[q.Name]
		switch {
		case q.Name == "":
			fail(path, fmt.Errorf("server-named queues are not supported: %w", ErrPreconditionFailed))
		case q.Type != broker.Classic && q.Type != broker.Quorum:
			fail(path, fmt.Errorf("unknown type %q: %w", q.Type, ErrPreconditionFailed))
		case q.TTL < 0:
			fail(path, fmt.Errorf("negative TTL %v: %w", q.TTL, ErrPreconditionFailed))
		case q.DeadLetterRoutingKey != "" && q.DeadLetterExchange == "":
			fail(path, fmt.Errorf("dead-letter routing key without dead-letter exchange: %w", ErrPreconditionFailed))
		case exists && old != q:
			fail(path, fmt.Errorf("inequivalent arguments %+v, exists as %+v: %w", q, old, ErrPreconditionFailed))
		default:
			queues[q.Name] = q
		}
	}

	for i, bd := range t.Bindings {
		path := fmt.Sprintf("bindings[%d] %q→%q", i, bd.Exchange, bd.Queue)
		if bd.Exchange == "" {
			fail(path, fmt.Errorf("cannot bind to the default exchange: %w", ErrPreconditionFailed))
		} else if _, ok := kinds[bd.Exchange]; !ok {
			fail(path, fmt.Errorf("exchange %q: %w", bd.Exchange, ErrNotFound))
		}
		if _, ok := queues[bd.Queue]; !ok {
			fail(path, fmt.Errorf("queue %q: %w", bd.Queue, ErrNotFound))
		}
	}
	return errors.Join(errs...)
}

// deleteQueueLocked removes q with its bindings and messages and stops its
// consumers. The caller waits for the returned consumers after unlocking.
func (b *Broker) deleteQueueLocked(q *queue) []*consumer {
	q.deleted = true
	q.stopTimer()
	q.msgs.clear()
	delete(b.queues, q.name)
	for _, ex := range b.exchanges {
		ex.bindings = slices.DeleteFunc(ex.bindings, func(bd binding) bool { return bd.q == q })
	}
	stopped := slices.Clone(q.consumers)
	for _, c := range stopped {
		c.stopLocked()
	}
	return stopped
}
