package streamlog

import "sync"

// pending holds the encoded events not yet confirmed by the broker, in
// publishing-id order: a bounded ring whose front part has been handed to
// the current producer session (in flight) and whose rest waits to be
// sent. A new session starts sending from the front again, so whatever a
// broken connection did not confirm is published again; the broker drops
// the copies it already has (the producer is named, see publisher.go).
type pending struct {
	mu      sync.Mutex
	ring    []entry
	head    int   // ring index of the oldest unconfirmed event
	n       int   // events held
	sent    int   // of the n, how many the current session has sent
	headSeq int64 // publishing id of ring[head]

	wake chan struct{} // poked when there is something to send

	// waiters are Durable's callers, in publishing-id order: each channel
	// is closed once every event up to its seq is confirmed. hurry is
	// poked when the first one starts waiting, so that the publisher
	// stops lingering.
	waiters []waiter
	hurry   chan struct{}
}

type waiter struct {
	seq  int64
	done chan struct{}
}

type entry struct {
	body      []byte
	confirmed bool // confirmed out of order, waiting to reach the head
}

func newPending(capacity int) *pending {
	return &pending{
		ring:    make([]entry, capacity),
		headSeq: 1, // publishing ids start at 1: the broker reports 0 for "none"
		wake:    make(chan struct{}, 1),
		hurry:   make(chan struct{}, 1),
	}
}

// durable returns a channel closed once every event pushed so far is
// confirmed, or nil if none waits for confirmation.
func (p *pending) durable() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return nil
	}
	seq := p.headSeq + int64(p.n) - 1
	if k := len(p.waiters); k > 0 && p.waiters[k-1].seq == seq {
		return p.waiters[k-1].done // nothing pushed since the last caller
	}
	w := waiter{seq: seq, done: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	if len(p.waiters) == 1 {
		select {
		case p.hurry <- struct{}{}:
		default:
		}
	}
	return w.done
}

// waiting reports whether a Durable caller waits.
func (p *pending) waiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters) > 0
}

// releaseLocked closes the waiters whose events are all confirmed (seq
// below headSeq), or every waiter when all is true.
func (p *pending) releaseLocked(all bool) {
	i := 0
	for ; i < len(p.waiters) && (all || p.waiters[i].seq < p.headSeq); i++ {
		close(p.waiters[i].done)
	}
	if i > 0 {
		p.waiters = append(p.waiters[:0], p.waiters[i:]...)
	}
}

func (p *pending) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// push appends body and reports false when the ring is full.
func (p *pending) push(body []byte) bool {
	p.mu.Lock()
	if p.n == len(p.ring) {
		p.mu.Unlock()
		return false
	}
	p.ring[(p.head+p.n)%len(p.ring)] = entry{body: body}
	p.n++
	p.mu.Unlock()
	p.poke()
	return true
}

// outgoing is one event to publish.
type outgoing struct {
	seq  int64
	body []byte
}

// take hands the next unsent events to the session: at most maxMsgs and
// maxBytes (but at least one), and only while fewer than maxInflight are
// unconfirmed.
func (p *pending) take(dst []outgoing, maxMsgs, maxBytes, maxInflight int) []outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	bytes := 0
	for p.sent < p.n && p.sent < maxInflight && len(dst) < maxMsgs {
		e := &p.ring[(p.head+p.sent)%len(p.ring)]
		if len(dst) > 0 && bytes+len(e.body) > maxBytes {
			break
		}
		if !e.confirmed {
			dst = append(dst, outgoing{seq: p.headSeq + int64(p.sent), body: e.body})
			bytes += len(e.body)
		}
		p.sent++
	}
	return dst
}

// confirm records the broker's confirmation of seq and returns how many
// events it settled (0 for a stale or repeated confirmation).
func (p *pending) confirm(seq int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := seq - p.headSeq
	if i < 0 || i >= int64(p.n) {
		return 0
	}
	e := &p.ring[(p.head+int(i))%len(p.ring)]
	if e.confirmed {
		return 0
	}
	e.confirmed = true
	p.popConfirmed()
	p.poke() // room in flight
	return 1
}

// confirmRange records the broker's confirmation of one message carrying
// the events first..last and returns how many it settled.
func (p *pending) confirmRange(first, last int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	settled := 0
	for seq := max(first, p.headSeq); seq <= last; seq++ {
		i := seq - p.headSeq
		if i >= int64(p.n) {
			break
		}
		e := &p.ring[(p.head+int(i))%len(p.ring)]
		if !e.confirmed {
			e.confirmed = true
			settled++
		}
	}
	p.popConfirmed()
	p.poke() // room in flight
	return settled
}

// confirmUpTo settles every event up to seq: the broker reported it as the
// last one it stored for this producer.
func (p *pending) confirmUpTo(seq int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	settled := 0
	for i := 0; i < p.n && p.headSeq+int64(i) <= seq; i++ {
		e := &p.ring[(p.head+i)%len(p.ring)]
		if !e.confirmed {
			e.confirmed = true
			settled++
		}
	}
	p.popConfirmed()
	return settled
}

func (p *pending) popConfirmed() {
	for p.n > 0 && p.ring[p.head].confirmed {
		p.ring[p.head] = entry{}
		p.head = (p.head + 1) % len(p.ring)
		p.headSeq++
		p.n--
		if p.sent > 0 {
			p.sent--
		}
	}
	p.releaseLocked(false)
}

// rewind makes every unconfirmed event due again, for a new session.
func (p *pending) rewind() {
	p.mu.Lock()
	p.sent = 0
	p.mu.Unlock()
	p.poke()
}

// len returns how many events wait for confirmation.
// unsent is how many events the current session has not sent yet.
func (p *pending) unsent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n - p.sent
}

func (p *pending) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// clear drops everything still held and returns how many.
func (p *pending) clear() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.n
	for i := range p.ring {
		p.ring[i] = entry{}
	}
	p.head, p.sent = 0, 0
	p.headSeq += int64(n)
	p.n = 0
	p.releaseLocked(true) // dropped: nothing more will come of them
	return n
}
