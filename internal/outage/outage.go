// Package outage tells the story of a broker going away in two log
// lines, both at warn level (the default level shows them): one when the
// first session loses it ("AMQP at localhost:5672 is down"), one when the
// last session that lost it is connected again ("… is back", with how
// long it was down and how many sessions reconnected) and none is lost
// again within a settling second — sessions notice one broker-side close
// at different moments, and one may be back before another has noticed. Each session's loss and each failed attempt to
// reconnect go to debug level, so that a process with dozens of
// sessions does not write dozens of lines per attempt.
package outage

import (
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Tracker follows the sessions of one service (the AMQP broker, the
// stream). It is safe for concurrent use.
type Tracker struct {
	log  *slog.Logger
	what string
	now  func() time.Time

	mu    sync.Mutex
	down  map[string]bool // sessions lost and not back yet
	since time.Time       // when the outage began
	lost  int             // sessions lost in this outage
	err   error           // the first loss's error
	// onBack, if set, is called (outside the lock) when an outage ends.
	onBack func(downFor time.Duration, sessions int)

	// settle is how long every session must stay up before the outage
	// is over; a loss within it continues the same outage. 0: at once.
	settle  time.Duration
	pending *time.Timer // the back line, waiting out settle
	backAt  time.Time   // when the last session came back
	gen     int         // which pending back line is current
}

// DefaultSettle is how long a Tracker waits, once every session is back,
// for a late loss before it calls the outage over.
const DefaultSettle = time.Second

// New returns a Tracker for what (e.g. "AMQP at localhost:5672"),
// logging to log (nil: discarded).
func New(log *slog.Logger, what string) *Tracker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{log: log, what: what, now: time.Now, down: map[string]bool{}, settle: DefaultSettle}
}

// OnBack sets a function called when an outage ends.
func (t *Tracker) OnBack(f func(downFor time.Duration, sessions int)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.onBack = f
}

// Lost records that session lost its connection, err saying why. The
// first loss of an outage is logged at warn level, the others at debug.
func (t *Tracker) Lost(session string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lostLocked(session, err)
}

func (t *Tracker) lostLocked(session string, err error) {
	if t.down[session] {
		return
	}
	settling := t.pending != nil
	if settling {
		// Lost again before the outage was called over: the same outage.
		t.pending.Stop()
		t.pending = nil
		t.gen++
	}
	first := len(t.down) == 0 && !settling
	t.down[session] = true
	t.lost++
	if first {
		t.since, t.err = t.now(), err
		t.log.Warn(t.what+" is down; reconnecting", "session", session, "err", err)
		return
	}
	t.log.Debug("session lost", "what", t.what, "session", session, "err", err)
}

// Failed records a failed attempt to connect session, the next one in
// retryIn. A session that fails before it was ever lost (its first
// connection) opens an outage too.
func (t *Tracker) Failed(session string, err error, retryIn time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lostLocked(session, err)
	t.log.Debug("reconnect failed", "what", t.what, "session", session, "err", err, "retry_in", retryIn)
}

// Up records that session is connected. When it was the last one down,
// the outage ends — after the settling time, if no session is lost in it
// — with one warn line giving its length. It reports whether the last
// session down came back (the outage ending, or settling) and how long
// it was down.
func (t *Tracker) Up(session string) (ended bool, downFor time.Duration) {
	t.mu.Lock()
	if !t.down[session] {
		t.mu.Unlock()
		return false, 0
	}
	delete(t.down, session)
	t.log.Debug("session reconnected", "what", t.what, "session", session)
	if len(t.down) > 0 {
		t.mu.Unlock()
		return false, 0
	}
	t.backAt = t.now()
	downFor = t.backAt.Sub(t.since)
	if t.settle <= 0 {
		t.endLocked() // unlocks
		return true, downFor
	}
	t.gen++
	gen := t.gen
	t.pending = time.AfterFunc(t.settle, func() {
		t.mu.Lock()
		if t.pending == nil || t.gen != gen {
			t.mu.Unlock()
			return
		}
		t.endLocked()
	})
	t.mu.Unlock()
	return true, downFor
}

// endLocked logs the end of the outage and calls onBack; it unlocks t.mu.
func (t *Tracker) endLocked() {
	downFor, n, f := t.backAt.Sub(t.since), t.lost, t.onBack
	t.pending, t.lost, t.err = nil, 0, nil
	t.log.Warn(t.what+" is back", "down_for", downFor.Round(time.Millisecond), "sessions", n)
	t.mu.Unlock()
	if f != nil {
		f(downFor, n)
	}
}

// Gone forgets session, stopped while it was down (a worker scaled
// down, the process stopping): it no longer holds the outage open. An
// outage that ends this way has no "back" line: nothing came back.
func (t *Tracker) Gone(session string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.down[session] {
		return
	}
	delete(t.down, session)
	if len(t.down) == 0 && t.pending == nil {
		t.log.Debug("outage no longer followed: its sessions stopped", "what", t.what)
		t.lost, t.err = 0, nil
	}
}

// Down reports whether an outage is on, and since when.
func (t *Tracker) Down() (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.down) > 0, t.since
}

// Where names a service at the hosts of a URL or comma-separated list of
// URLs, without credentials: "AMQP at localhost:5672", "stream at
// n1:5552,n2:5552". An address that does not parse is named as given,
// its credentials cut off.
func Where(service, urls string) string {
	var hosts []string
	for _, raw := range strings.Split(urls, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
			continue
		}
		if i := strings.LastIndexByte(raw, '@'); i >= 0 {
			raw = raw[i+1:]
		}
		hosts = append(hosts, raw)
	}
	if len(hosts) == 0 {
		return service
	}
	return service + " at " + strings.Join(hosts, ",")
}
