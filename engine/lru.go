package engine

import "sync"

// seenSet remembers the outcome of recently handled messages by
// message_id, so a redelivery repeats the outcome instead of repeating the
// work (a second charge, a second stock take). It is bounded: the oldest
// entry is forgotten first (redeliveries come soon after the original, so
// first-in-first-out serves as well as least-recently-used, without an
// allocation per message).
type seenSet struct {
	mu    sync.Mutex
	items map[string]outcome
	ring  []string // insertion order
	next  int
}

func newSeenSet(max int) *seenSet {
	return &seenSet{items: make(map[string]outcome, max), ring: make([]string, 0, max)}
}

func (s *seenSet) get(key string) (outcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, ok := s.items[key]
	return out, ok
}

func (s *seenSet) put(key string, out outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[key]; ok {
		s.items[key] = out
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, key)
	} else {
		delete(s.items, s.ring[s.next])
		s.ring[s.next] = key
		s.next = (s.next + 1) % len(s.ring)
	}
	s.items[key] = out
}
