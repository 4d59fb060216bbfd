package streamlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"

	"oms-sim/engine"
)

// ErrNoStream is returned by ReadBack when the stream does not exist.
var ErrNoStream = errors.New("event stream does not exist")

// Reading back. RabbitMQ 3.10 has no stream statistics command (the
// client's StreamStats times out after its RPC timeout), so the end of the
// stream is found by a probe: a consumer at OffsetSpecification.Last,
// which the broker starts at the last chunk; the highest offset in that
// chunk is the end. The probe runs beside the reader, and an empty stream
// (or nothing newer than since) shows as neither delivering for a while.
const (
	probeQuiet = 50 * time.Millisecond  // the last chunk has been dispatched
	probeMax   = 500 * time.Millisecond // stop probing a busy stream
	readIdle   = 2 * time.Second        // nothing delivered: nothing to read
	readStall  = 30 * time.Second       // no progress towards a known end
)

// ErrStalled is returned (with what was read) by ReadBack when the
// stream stops delivering before the end it found.
var ErrStalled = errors.New("event stream read stalled")

// ReadBack returns, in stream order, the events matching match (nil
// matches all) among those appended in the last since (all, if since <=
// 0), up to the end of the stream as it was when called. It reads with
// its own connections; cfg needs URL, Stream and perhaps SocketBuffer.
func ReadBack(ctx context.Context, cfg Config, since time.Duration, match func(engine.Event) bool) ([]engine.Event, error) {
	var w Window
	if since > 0 {
		w.From = time.Now().Add(-since)
	}
	return Read(ctx, cfg, w, match)
}

// Window bounds what Read reads, so that its cost follows what is asked
// for, not the size of the stream.
type Window struct {
	// From is where reading starts: the broker attaches at the chunk it
	// stored at that time (a stream offset by timestamp). Zero: the
	// first event retained.
	From time.Time
	// Until stops reading at the first stream message whose first event
	// is later than it. Zero: read to the end of the stream.
	Until time.Time
	// Needle, when set, skips every event line that does not contain it
	// without decoding it: decoding is most of a reader's CPU.
	Needle []byte
	// Stop, when set, is called with each match; a non-zero time it
	// returns lowers Until to it (e.g. a little after an order's last
	// event).
	Stop func(engine.Event) time.Time
}

// Read returns, in stream order, the events matching match (nil matches
// all) in the window w, up to the end of the stream as it was when
// called. It reads with its own connections; cfg needs URL, Stream and
// perhaps SocketBuffer.
func Read(ctx context.Context, cfg Config, w Window, match func(engine.Event) bool) ([]engine.Event, error) {
	start := time.Now()
	evs, n, err := read(ctx, cfg, w, match)
	if cfg.Logger != nil {
		cfg.Logger.Debug("read the event stream", "stream", cfg.Stream, "from", w.From, "until", w.Until,
			"messages", n, "matches", len(evs), "took", time.Since(start), "err", err)
	}
	return evs, err
}

// read is Read, also counting the stream messages it read (for tests:
// what a window saves is messages not read).
func read(ctx context.Context, cfg Config, w Window, match func(engine.Event) bool) (evs []engine.Event, messages int, err error) {
	ep, err := prepare(ctx, &cfg)
	if err != nil {
		return nil, 0, err
	}
	env, err := newEnv(cfg, ep)
	if err != nil {
		return nil, 0, err
	}
	defer env.Close()
	exists, err := env.StreamExists(cfg.Stream)
	if err != nil {
		return nil, 0, fmt.Errorf("stream %q: %w", cfg.Stream, err)
	}
	if !exists {
		return nil, 0, fmt.Errorf("%w: %q", ErrNoStream, cfg.Stream)
	}

	r := &reader{
		match: match, needle: w.Needle, until: w.Until, stop: w.Stop, end: -1, read: -1, probed: -1,
		done: make(chan struct{}), progress: make(chan struct{}, 1), probeSeen: make(chan struct{}, 1),
	}
	probe, err := env.NewConsumer(cfg.Stream, func(cc stream.ConsumerContext, _ *amqp.Message) {
		r.probe(cc.Consumer.GetOffset(), int(cc.GetEntriesCount()))
	}, stream.NewConsumerOptions().
		SetOffset(stream.OffsetSpecification{}.Last()).
		SetClientProvidedName(cfg.Name+"/events-probe"))
	if err != nil {
		return nil, 0, fmt.Errorf("probe %q: %w", cfg.Stream, err)
	}
	defer probe.Close()

	spec := stream.OffsetSpecification{}.First()
	if !w.From.IsZero() {
		spec = stream.OffsetSpecification{}.Timestamp(w.From.UnixMilli())
	}
	cons, err := env.NewConsumer(cfg.Stream, func(cc stream.ConsumerContext, m *amqp.Message) {
		r.handle(cc.Consumer.GetOffset(), m)
	}, stream.NewConsumerOptions().
		SetOffset(spec).
		SetClientProvidedName(cfg.Name+"/events-readback"))
	if err != nil {
		return nil, 0, fmt.Errorf("consumer on %q: %w", cfg.Stream, err)
	}
	defer cons.Close()

	idle := time.NewTimer(readIdle)
	defer idle.Stop()
	var quiet *time.Timer // the probe's last chunk is in once this fires
	var probeDone <-chan time.Time
	var probeDeadline <-chan time.Time
	for {
		select {
		case <-r.done:
			return r.result()
		case <-r.progress:
			idle.Reset(readIdle)
		case <-r.probeSeen:
			idle.Reset(readIdle)
			if quiet == nil {
				quiet = time.NewTimer(probeQuiet)
				defer quiet.Stop()
				probeDone = quiet.C
				probeDeadline = time.After(probeMax)
			} else {
				quiet.Reset(probeQuiet)
			}
		case <-probeDone:
			r.setEnd()
			probeDone, probeDeadline = nil, nil
		case <-probeDeadline:
			r.setEnd()
			probeDone, probeDeadline = nil, nil
		case <-idle.C:
			switch end, read := r.state(); {
			case read < 0:
				// The reader has had nothing for a while: an empty
				// stream (the probe neither), or nothing newer than
				// since (the reader then starts after the end).
				return r.result()
			case time.Since(r.lastReadAt()) > readStall:
				return r.resultErr(fmt.Errorf("%w: at offset %d of %d", ErrStalled, read, end))
			}
			// Reading, towards an end known or about to be: a slow
			// link delivers a chunk at a time.
			idle.Reset(readIdle)
		case <-ctx.Done():
			return r.resultErr(ctx.Err())
		}
	}
}

// reader collects ReadBack's matches up to the end the probe finds.
type reader struct {
	match     func(engine.Event) bool
	needle    []byte
	stop      func(engine.Event) time.Time
	done      chan struct{}
	progress  chan struct{}
	probeSeen chan struct{}

	mu       sync.Mutex
	end      int64 // the stream's last offset; -1 until the probe knows
	read     int64 // the last offset read
	probed   int64 // the highest offset the probe saw
	count    int   // messages the probe saw
	entries  int   // entries in the probe's first chunk
	finished bool
	events   []engine.Event
	readAt   time.Time // when the reader last delivered
	until    time.Time // stop at a message later than this; zero: the end
	messages int       // messages read
}

// state returns the end (or -1) and the last offset read (or -1).
func (r *reader) state() (end, read int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end, r.read
}

func (r *reader) lastReadAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// probe records a message of the probe consumer. Without sub-entries
// (ours), a chunk's entries are its messages: when as many have come as
// the first chunk has entries, its last offset is the end.
func (r *reader) probe(offset int64, entries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end >= 0 {
		return
	}
	if r.count == 0 {
		r.entries = entries
	}
	r.count++
	r.probed = max(r.probed, offset)
	if r.count >= r.entries {
		r.setEndLocked()
		return
	}
	poke(r.probeSeen)
}

// setEnd fixes the end at what the probe saw (its last chunk went quiet).
func (r *reader) setEnd() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setEndLocked()
}

func (r *reader) setEndLocked() {
	if r.end >= 0 || r.probed < 0 {
		return
	}
	r.end = r.probed
	if r.read >= r.end {
		r.finish()
	}
}

func (r *reader) handle(offset int64, m *amqp.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	if r.end >= 0 && offset > r.end {
		r.finish()
		return
	}
	data := m.GetData()
	if !r.until.IsZero() {
		if t, ok := messageTime(data); ok && t.After(r.until) {
			r.finish()
			return
		}
	}
	r.read = offset
	r.readAt = time.Now()
	r.messages++
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if r.needle != nil && !bytes.Contains(line, r.needle) {
			continue
		}
		var ev engine.Event
		if err := json.Unmarshal(line, &ev); err != nil || (r.match != nil && !r.match(ev)) {
			continue
		}
		r.events = append(r.events, ev)
		if r.stop != nil {
			if t := r.stop(ev); !t.IsZero() && (r.until.IsZero() || t.Before(r.until)) {
				r.until = t
			}
		}
	}
	if r.end >= 0 && offset == r.end {
		r.finish()
		return
	}
	poke(r.progress)
}

func (r *reader) finish() {
	if !r.finished {
		r.finished = true
		close(r.done)
	}
}

func (r *reader) result() ([]engine.Event, int, error) {
	return r.resultErr(nil)
}

func (r *reader) resultErr(err error) ([]engine.Event, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = true // the consumers' goroutines may still be dispatching
	return r.events, r.messages, err
}

// messageTime returns the time of a stream message's first event without
// decoding it: every event's JSON has a "time" field (engine's
// AppendJSON), and a message holds consecutive events of one process.
func messageTime(data []byte) (time.Time, bool) {
	const key = `"time":"`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := data[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}
