package engine

import (
	"sync"

	"oms-sim/engine/broker"
)

// remembered is what a redelivery needs of an outcome: the one message it
// published, without the headers (rebuilt) or the events (not repeated).
// Kept small: the set holds tens of thousands per stage.
type remembered struct {
	key, orderID string
	body         []byte
	busy         bool // claimed by a worker that has not finished
	slot         int  // its place in seenSet.ring
}

// remember keeps what a redelivery of m's cause needs. A padded body
// (Config.BodyBytes) is kept without its padding, so the set's memory does
// not grow with the configured body size.
func (e *Engine) remember(m broker.Message) remembered {
	body := m.Body
	if e.cfg.BodyBytes > 0 {
		body = unpadJSON(body)
	}
	return remembered{key: m.RoutingKey, orderID: m.CorrelationID, body: body}
}

// resend rebuilds the message a remembered outcome published.
func (e *Engine) resend(r remembered) broker.Message {
	m := e.message(Order{OrderID: r.orderID}, r.key)
	m.Body = r.body
	if e.cfg.BodyBytes > len(r.body) {
		m.Body = padJSON(append(make([]byte, 0, e.cfg.BodyBytes), r.body...), 0, e.cfg.BodyBytes)
	}
	return m
}

// seenSet remembers the outcome of recently handled messages by
// message_id, so a redelivery repeats the outcome instead of repeating the
// work (a second charge, a second stock take). It is bounded: the oldest
// entry is forgotten first (redeliveries come soon after the original, so
// first-in-first-out serves as well as least-recently-used, without an
// allocation per message).
type seenSet struct {
	mu    sync.Mutex
	items map[string]remembered
	ring  []string // insertion order
	next  int
}

func newSeenSet(max int) *seenSet {
	return &seenSet{items: make(map[string]remembered, max), ring: make([]string, 0, max)}
}

// claim atomically looks key up and, when it is new, marks it busy for
// the caller: two workers handed the same message at once (a publisher
// that sent it twice) must not both do the work.
func (s *seenSet) claim(key string) (r remembered, seen bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.items[key]; ok {
		return r, true
	}
	s.insertLocked(key, remembered{busy: true})
	return remembered{}, false
}

// release forgets a claim whose work failed, so a redelivery does it.
func (s *seenSet) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.items[key]; ok && r.busy {
		delete(s.items, key)
	}
}

func (s *seenSet) put(key string, out remembered) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.items[key]; ok {
		out.slot = r.slot
		s.items[key] = out
		return
	}
	s.insertLocked(key, out)
}

// insertLocked adds key in the ring's next slot, forgetting the entry
// that held it. A key released and claimed again holds a newer slot; its
// old slot, when recycled, must not forget it (hence the slot check).
func (s *seenSet) insertLocked(key string, out remembered) {
	if len(s.ring) < cap(s.ring) {
		out.slot = len(s.ring)
		s.ring = append(s.ring, key)
	} else {
		old := s.ring[s.next]
		if r, ok := s.items[old]; ok && r.slot == s.next {
			delete(s.items, old)
		}
		out.slot = s.next
		s.ring[s.next] = key
		s.next = (s.next + 1) % len(s.ring)
	}
	s.items[key] = out
}
