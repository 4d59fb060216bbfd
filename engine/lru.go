package engine

import (
	"container/list"
	"sync"
)

// seenSet remembers the outcome of recently handled messages by
// message_id, so a redelivery repeats the outcome instead of repeating the
// work (a second charge, a second stock take). It is bounded: memory does
// not grow with the number of orders.
type seenSet struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element
	order *list.List
}

type seenEntry struct {
	key string
	out outcome
}

func newSeenSet(max int) *seenSet {
	return &seenSet{max: max, items: make(map[string]*list.Element), order: list.New()}
}

func (s *seenSet) get(key string) (outcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		return e.Value.(*seenEntry).out, true
	}
	return outcome{}, false
}

func (s *seenSet) put(key string, out outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		e.Value.(*seenEntry).out = out
		return
	}
	s.items[key] = s.order.PushBack(&seenEntry{key: key, out: out})
	for s.order.Len() > s.max {
		old := s.order.Front()
		s.order.Remove(old)
		delete(s.items, old.Value.(*seenEntry).key)
	}
}
