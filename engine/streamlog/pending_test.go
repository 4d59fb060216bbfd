package streamlog

import (
	"log/slog"
	"slices"
	"testing"
	"time"
)

func seqs(out []outgoing) []int64 {
	s := make([]int64, len(out))
	for i, o := range out {
		s[i] = o.seq
	}
	return s
}

func TestPendingSendConfirmResend(t *testing.T) {
	t.Parallel()
	p := newPending(4)
	for i := range 4 {
		if !p.push([]byte{byte(i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if p.push([]byte{9}) {
		t.Fatal("push into a full ring accepted")
	}
	if got := seqs(p.take(nil, 3, 1<<20, 100)); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("take = %v, want [1 2 3]", got)
	}
	// Out of order: 2 waits for 1.
	if n := p.confirm(2); n != 1 || p.len() != 4 {
		t.Fatalf("confirm(2) = %d, len %d; want 1, 4", n, p.len())
	}
	if n := p.confirm(2); n != 0 {
		t.Fatalf("repeated confirm(2) = %d, want 0", n)
	}
	if n := p.confirm(1); n != 1 || p.len() != 2 {
		t.Fatalf("confirm(1) = %d, len %d; want 1, 2", n, p.len())
	}
	if !p.push([]byte{4}) {
		t.Fatal("push after confirms refused")
	}
	// The connection breaks: 3 was sent, not confirmed; 4 and 5 never sent.
	p.rewind()
	if got := seqs(p.take(nil, 10, 1<<20, 100)); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Fatalf("after rewind take = %v, want [3 4 5]", got)
	}
	// The broker says it stored up to 4.
	p.rewind()
	if n := p.confirmUpTo(4); n != 2 {
		t.Fatalf("confirmUpTo(4) = %d, want 2", n)
	}
	if got := seqs(p.take(nil, 10, 1<<20, 100)); !slices.Equal(got, []int64{5}) {
		t.Fatalf("take = %v, want [5]", got)
	}
	if n := p.confirm(1); n != 0 {
		t.Fatalf("stale confirm(1) = %d, want 0", n)
	}
	if n := p.confirm(5); n != 1 || p.len() != 0 {
		t.Fatalf("confirm(5) = %d, len %d; want 1, 0", n, p.len())
	}
}

func TestPendingTakeLimits(t *testing.T) {
	t.Parallel()
	p := newPending(10)
	for range 10 {
		p.push(make([]byte, 100))
	}
	if got := p.take(nil, 10, 250, 100); len(got) != 2 {
		t.Errorf("byte limit: took %d, want 2", len(got))
	}
	if got := p.take(nil, 10, 1<<20, 5); len(got) != 3 {
		t.Errorf("in-flight limit: took %d, want 3 (2 already out)", len(got))
	}
	if got := p.take(nil, 10, 1<<20, 5); len(got) != 0 {
		t.Errorf("in-flight full: took %d, want 0", len(got))
	}
	p = newPending(1)
	p.push(make([]byte, 1000))
	if got := p.take(nil, 10, 10, 10); len(got) != 1 {
		t.Errorf("an event larger than maxBytes: took %d, want 1", len(got))
	}
}

// An unreachable broker must never block Append: with nothing publishing,
// the buffer fills and the rest is dropped and counted.
func TestAppendDropsWhenBufferFull(t *testing.T) {
	t.Parallel()
	l := &Log{pend: newPending(3), log: slog.New(slog.DiscardHandler)}
	start := time.Now()
	for i := range 1000 {
		l.Append(event("run", "o1", i))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 appends took %v", d)
	}
	st := l.Stats()
	if st.Appended != 3 || st.Dropped != 997 || st.Pending != 3 {
		t.Errorf("stats = %+v, want 3 appended, 997 dropped, 3 pending", st)
	}
	l.closing.Store(true)
	l.Append(event("run", "o1", 0))
	if got := l.Stats().Dropped; got != 998 {
		t.Errorf("append after close: dropped %d, want 998", got)
	}
}

func TestAppendDropsOversizedEvent(t *testing.T) {
	t.Parallel()
	l := &Log{pend: newPending(3), log: slog.New(slog.DiscardHandler)}
	ev := event("run", "o1", 0)
	ev.Detail = string(make([]byte, maxEventBytes))
	l.Append(ev)
	if st := l.Stats(); st.Dropped != 1 || st.Appended != 0 {
		t.Errorf("stats = %+v, want 1 dropped", st)
	}
}

// TestPendingDurable: Durable's channel closes once every event pushed
// before the call is confirmed, in whatever order the confirms come;
// nothing pending gives nil; clearing releases the waiters.
func TestPendingDurable(t *testing.T) {
	t.Parallel()
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	p := newPending(8)
	if p.durable() != nil {
		t.Fatal("durable with nothing pending: want nil")
	}
	p.push([]byte("a"))
	p.push([]byte("b"))
	first := p.durable()
	if again := p.durable(); again != first {
		t.Error("a second call with nothing pushed since got another channel")
	}
	p.push([]byte("c"))
	second := p.durable()
	if !p.waiting() {
		t.Error("waiting() = false with two waiters")
	}
	p.take(nil, 10, 1<<20, 10)
	p.confirm(2)
	if closed(first) {
		t.Fatal("released before event 1 was confirmed")
	}
	p.confirm(1)
	if !closed(first) || closed(second) {
		t.Fatalf("after 1 and 2: first closed %v (want true), second %v (want false)", closed(first), closed(second))
	}
	p.push([]byte("d"))
	third := p.durable()
	if n := p.clear(); n != 2 {
		t.Fatalf("clear dropped %d, want 2", n)
	}
	if !closed(second) || !closed(third) || p.waiting() {
		t.Error("clear left waiters waiting")
	}
}
