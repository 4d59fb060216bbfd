package engine

import (
	"context"
	"sync"
)

// dedupe answers a redelivery from memory: a message whose id the stage
// has handled repeats the message it published then, without redoing the
// work (a second charge, a second stock take). Two workers handed the
// same message at once (a publisher that sent it twice) do not both work
// on it: the second gets errBusy and requeues it. A failure forgets the
// claim, so the retry or redelivery does the work.
//
// Without a message id (a publisher that knows only the seed's format) a
// redelivery cannot be told from a new order, so such messages are not
// deduplicated.
func (s *stage) dedupe(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (outcome, error) {
		msgID := in.d.MessageID
		if msgID == "" {
			return next(ctx, in)
		}
		r, seen := s.seen.claim(msgID)
		switch {
		case seen && r.busy:
			return outcome{}, errBusy
		case seen:
			return s.repeat(r, in), nil
		}
		out, err := next(ctx, in)
		if err != nil {
			s.seen.release(msgID)
			return out, err
		}
		s.seen.put(msgID, s.deps.msgs.remember(out.msg))
		return out, nil
	}
}

// repeat answers a duplicate delivery with the remembered outcome.
func (s *stage) repeat(r remembered, in *inbound) outcome {
	s.stats.redelivered.Add(1)
	s.deps.emit(Event{OrderID: r.orderID, Type: EventRedelivered, Stage: s.name, Worker: in.worker,
		Detail: "duplicate " + in.key + " delivery; outcome repeated, work not redone"})
	m := s.deps.msgs.resend(r)
	// A second copy of the outgoing message: the next stage, in another
	// process, may do its work again — redone, not a duplicated order.
	m.Headers[HeaderRedone] = true
	return outcome{msg: m}
}

// remembered is what a redelivery needs of an outcome: the one message it
// published, without the headers (rebuilt) or the events (not repeated).
// Kept small: the set holds tens of thousands per stage.
type remembered struct {
	key, orderID string
	body         []byte
	busy         bool // claimed by a worker that has not finished
	slot         int  // its place in seenSet.ring
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
