package streamlog

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"

	"oms-sim/internal/brokertest"
)

// testVhost creates a vhost of its own for a test that closes
// connections from the broker, so that it closes only its own (the broker
// is shared with other engineers' tests), and deletes it at cleanup. It
// returns the stream URL for it.
func testVhost(t testing.TB) string {
	t.Helper()
	requireBroker(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	vhost := "oms-streamlog-test-" + hex.EncodeToString(b[:])
	rabbitmqctl(t, "add_vhost", vhost)
	t.Cleanup(func() { rabbitmqctl(t, "delete_vhost", vhost) })
	user := "guest"
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.User != nil {
		user = u.User.Username()
	}
	rabbitmqctl(t, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
	u.Path = "/" + vhost
	return u.String()
}

// closeConnections closes every connection to vhost from the broker's
// side. In RabbitMQ 3.10 close_all_connections closes stream connections
// too (list_connections does not show them; list_stream_connections
// does).
func closeConnections(t testing.TB, vhost string) {
	t.Helper()
	out := rabbitmqctl(t, "close_all_connections", "-p", vhost, "streamlog test: broker-side close")
	t.Logf("rabbitmqctl close_all_connections -p %s: %s", vhost, out)
}

// Connections closed by the broker mid-stream: the producer re-sends what
// was not confirmed (the broker drops the copies), the consumers resume
// after their last offset, and a subscriber in another process sees every
// event exactly once, in order.
func TestReconnectNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	vhostURL := testVhost(t)
	u, _ := url.Parse(vhostURL)
	vhost := u.Path[1:]
	cfg := testConfig(t, vhostURL)
	writer := openLog(t, cfg)
	reader := openLog(t, cfg)
	got := newCollector()
	reader.Subscribe(got.add)

	// Append all along, at about 50,000 events/s, so that each close
	// catches events in flight (sent, not confirmed) and others queued.
	stop := appendAlong(writer, 50)
	const rounds = 3
	for r := range rounds {
		time.Sleep(300 * time.Millisecond)
		closeConnections(t, vhost)
		start := time.Now()
		brokertest.WaitFor(t, 20*time.Second, "both logs reconnected", func() bool {
			w, rd := writer.Stats(), reader.Stats()
			return w.Connected && rd.Connected && w.Reconnects >= int64(2*(r+1)) && rd.Reconnects >= int64(2*(r+1))
		})
		t.Logf("reconnected in %v: writer %+v", time.Since(start), writer.Stats())
	}
	time.Sleep(300 * time.Millisecond)
	n := int(stop())
	if err := writer.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	ws := writer.Stats()
	if ws.Appended+ws.Dropped != int64(n) || ws.Confirmed != ws.Appended {
		t.Errorf("writer %+v: want %d appended or dropped, every appended one confirmed", ws, n)
	}
	if ws.Dropped != 0 {
		t.Errorf("writer dropped %d events (the buffer should hold a reconnection's worth)", ws.Dropped)
	}
	got.waitFor(t, int(ws.Appended), 60*time.Second)
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	// Strictly increasing details, as many as were accepted: each accepted
	// event exactly once, in order.
	events := got.snapshot()
	if int64(len(events)) != ws.Appended {
		t.Errorf("received %d events, want %d", len(events), ws.Appended)
	}
	prev := -1
	for i, ev := range events {
		var d int
		if _, err := fmt.Sscan(ev.Detail, &d); err != nil || d <= prev {
			t.Fatalf("event %d has detail %q after %d: a duplicate or out of order", i, ev.Detail, prev)
		}
		prev = d
	}
	rs := reader.Stats()
	t.Logf("writer %+v", ws)
	t.Logf("reader %+v", rs)
	t.Logf("events sent again after a reconnection (the broker dropped the copies): %d", ws.Published-ws.Confirmed)
	if ws.Reconnects < 2*rounds || rs.Reconnects < 2*rounds {
		t.Errorf("reconnects: writer %d, reader %d; want at least %d each (producer and consumer)", ws.Reconnects, rs.Reconnects, 2*rounds)
	}
	if rs.Delivered != ws.Appended || rs.Undecodable != 0 {
		t.Errorf("reader delivered %d (%d undecodable), want %d", rs.Delivered, rs.Undecodable, ws.Appended)
	}
}

// The resend after a reconnection relies on the broker: a named
// producer's message whose publishing id is not above the last one stored
// is confirmed and dropped, and the last stored id is reported to the
// next producer of that name.
func TestBrokerDropsResentCopies(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, testURL())
	cfg.setDefaults()
	ep, _ := parseURL(cfg.URL)
	cfg.URL = withPort(cfg.URL, ep)
	env, err := newEnv(cfg, ep)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if _, err := declareOn(env, cfg); err != nil {
		t.Fatal(err)
	}
	name := producerName("test")
	send := func(from, to int64) (last int64) {
		t.Helper()
		p, err := env.NewProducer(cfg.Stream, stream.NewProducerOptions().SetProducerName(name))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		last, err = p.GetLastPublishingId()
		if err != nil {
			t.Fatal(err)
		}
		confirms := p.NotifyPublishConfirmation()
		var msgs []message.StreamMessage
		for id := from; id <= to; id++ {
			m := amqp.NewMessage([]byte(fmt.Sprint(id)))
			m.SetPublishingId(id)
			msgs = append(msgs, m)
		}
		if err := p.BatchSend(msgs); err != nil {
			t.Fatal(err)
		}
		for confirmed := int64(0); confirmed < to-from+1; {
			select {
			case sts := <-confirms:
				for _, st := range sts {
					if !st.IsConfirmed() {
						t.Fatalf("id %d not confirmed: %v", st.GetPublishingId(), st.GetError())
					}
					confirmed++
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%d of %d confirmed", confirmed, to-from+1)
			}
		}
		return last
	}
	if last := send(1, 10); last != 0 {
		t.Errorf("new producer: last id %d, want 0", last)
	}
	if last := send(6, 15); last != 10 {
		t.Errorf("same name again: last id %d, want 10", last)
	}
	var bodies []string
	var mu sync.Mutex
	done := make(chan struct{})
	c, err := env.NewConsumer(cfg.Stream, func(_ stream.ConsumerContext, m *amqp.Message) {
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(m.GetData()))
		if len(bodies) == 15 {
			close(done)
		}
	}, stream.NewConsumerOptions().SetOffset(stream.OffsetSpecification{}.First()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("fewer than 15 messages in the stream")
	}
	time.Sleep(200 * time.Millisecond) // a sixteenth would arrive now
	mu.Lock()
	defer mu.Unlock()
	for i, b := range bodies {
		if b != fmt.Sprint(i+1) {
			t.Fatalf("stream holds %v, want 1..15 once each", bodies)
		}
	}
}

// appendAlong appends numbered events to l from a goroutine, resting a
// millisecond after every burst of them, until the returned stop is
// called; stop waits for the goroutine and returns how many it appended.
func appendAlong(l *Log, burst int) (stop func() int64) {
	quit, done := make(chan struct{}), make(chan struct{})
	var appended atomic.Int64
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			l.Append(event("r", "o", i))
			appended.Add(1)
			if i%burst == burst-1 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return appended.Load()
	}
}
