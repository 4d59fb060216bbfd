package amqpbroker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
	"oms-sim/internal/testnet"
)

func TestPingNoBroker(t *testing.T) {
	t.Parallel()
	start := time.Now()
	// Port 1 on localhost: connection refused, so Ping fails at once.
	err := Ping(context.Background(), "amqp://guest:secret@127.0.0.1:1/")
	if err == nil {
		t.Fatal("Ping to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks password: %v", err)
	}
	if d := time.Since(start); d > PingTimeout+time.Second {
		t.Errorf("Ping took %v", d)
	}
}

func TestDialCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(testURL()).Dial(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with cancelled ctx: %v, want context.Canceled", err)
	}
}

// TestDialSilentServer dials a listener that accepts and never answers, as
// a wedged broker or a wrong port behind a proxy would: both the context and
// the dial timeout must cut the AMQP handshake short.
func TestDialSilentServer(t *testing.T) {
	t.Parallel()
	url := "amqp://guest:guest@" + testnet.Hanging(t, "127.0.0.1:0").Addr() + "/"

	tests := []struct {
		name string
		d    *Dialer
		ctx  time.Duration
		want error
	}{
		{"context deadline", New(url), 200 * time.Millisecond, context.DeadlineExceeded},
		{"dial timeout", New(url, WithDialTimeout(200*time.Millisecond)), time.Minute, nil},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), tt.ctx)
		start := time.Now()
		_, err := tt.d.Dial(ctx, "silent")
		cancel()
		if err == nil {
			t.Fatalf("%s: dial to a silent server succeeded", tt.name)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: took %v", tt.name, el)
		}
		t.Logf("%s: %v", tt.name, err)
	}
}

func TestDialBadCredentials(t *testing.T) {
	t.Parallel()
	testDialer(t) // skips without a broker
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong-password")
	// RabbitMQ refuses bad credentials by closing the socket after 3 s
	// (amqp091 does not advertise authentication_failure_close, so no 403
	// reply comes); amqp091 reports its ErrCredentials (403) when the socket
	// closes in the tune phase, here because the deadline closed it.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = New(u.String()).Dial(ctx, "test bad creds")
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.AccessRefused {
		t.Fatalf("dial with a wrong password = %v, want 403 ACCESS_REFUSED", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks password: %v", err)
	}
	t.Logf("bad credentials: %v", err)
}

// pipeline is a small version of the order topology: a topic exchange, a
// work queue per routing pattern, and a retry queue that dead-letters back.
func pipeline(t testing.TB, typ string) (broker.Topology, string, []string) {
	x := uniqueName(t, "orders")
	qs := []string{uniqueName(t, "payment"), uniqueName(t, "inventory"), uniqueName(t, "email")}
	return broker.Topology{
		Exchanges: []broker.Exchange{{Name: x, Kind: broker.Topic}},
		Queues: []broker.Queue{
			{Name: qs[0], Type: typ},
			{Name: qs[1], Type: typ},
			{Name: qs[2], Type: typ, TTL: time.Minute, DeadLetterExchange: x, DeadLetterRoutingKey: "dead"},
		},
		Bindings: []broker.Binding{
			{Exchange: x, Queue: qs[0], Key: "order.created"},
			{Exchange: x, Queue: qs[0], Key: "inventory.failed"},
			{Exchange: x, Queue: qs[1], Key: "payment.success"},
			{Exchange: x, Queue: qs[2], Key: "*.failed"},
			{Exchange: x, Queue: qs[2], Key: "inventory.#"},
		},
	}, x, qs
}

func TestDeclareIdempotent(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{broker.Classic, broker.Quorum} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			d := testDialer(t)
			c := testConn(t, d)
			topo, _, qs := pipeline(t, typ)
			declare(t, d, c, topo)
			if err := c.Declare(context.Background(), topo); err != nil {
				t.Fatalf("second declare: %v", err)
			}
			for _, q := range qs {
				info, err := c.Inspect(q)
				if err != nil {
					t.Fatal(err)
				}
				if info != (broker.QueueInfo{Name: q}) {
					t.Errorf("Inspect(%q) = %+v", q, info)
				}
			}
		})
	}
}

func TestTopicRouting(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	topo, x, qs := pipeline(t, broker.Classic)
	declare(t, d, c, topo)
	ch := testChannel(t, c)

	keys := []string{
		"order.created",     // payment
		"payment.success",   // inventory
		"payment.failed",    // email (*.failed)
		"inventory.updated", // email (inventory.#)
		"inventory.failed",  // payment and email (once, though two bindings match)
		"email.sent",        // nobody: confirmed and dropped
		"payment.x.failed",  // nobody: '*' is exactly one word
	}
	want := map[string]int{qs[0]: 2, qs[1]: 1, qs[2]: 3}
	for _, k := range keys {
		publishConfirmed(t, ch, broker.Message{Exchange: x, RoutingKey: k, Body: []byte(k)})
	}
	// A confirm for a routable message means it is enqueued, so the counts
	// are exact without polling.
	for q, n := range want {
		info, err := c.Inspect(q)
		if err != nil {
			t.Fatal(err)
		}
		if info.Ready != n {
			t.Errorf("queue %s: %d ready, want %d", q, info.Ready, n)
		}
	}
}

func TestInspectPurgeDelete(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	q := uniqueName(t, "inspect")
	declare(t, d, c, broker.Topology{Queues: []broker.Queue{{Name: q}}})
	ch := testChannel(t, c)
	for range 3 {
		publishConfirmed(t, ch, broker.Message{RoutingKey: q, Body: []byte("x")})
	}

	info, err := c.Inspect(q)
	if err != nil {
		t.Fatal(err)
	}
	if info != (broker.QueueInfo{Name: q, Ready: 3}) {
		t.Errorf("Inspect = %+v, want 3 ready", info)
	}

	// A missing queue closes the inspection channel (404); the next call
	// must reopen it.
	_, err = c.Inspect(q + ".missing")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Inspect(missing) = %v, want ErrNotFound", err)
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.NotFound {
		t.Errorf("Inspect(missing) = %v, want a 404 *amqp.Error", err)
	}

	cons := testChannel(t, c)
	if _, err := cons.Consume(q, "inspect", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		info, err = c.Inspect(q)
		return err == nil && info.Consumers == 1 && info.Ready == 2
	})
	if err := cons.Close(); err != nil {
		t.Fatal(err)
	}
	// The unacked delivery goes back to the queue when its channel closes.
	waitFor(t, func() bool {
		info, err = c.Inspect(q)
		return err == nil && info.Consumers == 0 && info.Ready == 3
	})

	n, err := c.Purge(q)
	if err != nil || n != 3 {
		t.Errorf("Purge = %d, %v; want 3", n, err)
	}
	if err := c.Delete(q); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inspect(q); !errors.Is(err, ErrNotFound) {
		t.Errorf("Inspect after Delete = %v, want ErrNotFound", err)
	}
	if err := c.Delete(q); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeclareMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		have, want broker.Queue
		wantMsg    string
	}{
		{"classic then quorum", broker.Queue{Type: broker.Classic}, broker.Queue{Type: broker.Quorum},
			"exists as classic, not quorum; delete it or use --queue-type classic"},
		{"quorum then classic", broker.Queue{Type: broker.Quorum}, broker.Queue{Type: broker.Classic},
			"exists as quorum, not classic; delete it or use --queue-type quorum"},
		{"ttl", broker.Queue{TTL: time.Second}, broker.Queue{TTL: 100 * time.Millisecond},
			"exists with x-message-ttl 1000, not 100"},
		{"ttl added", broker.Queue{}, broker.Queue{TTL: 100 * time.Millisecond},
			"exists with x-message-ttl none, not 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := testDialer(t)
			c := testConn(t, d)
			name := uniqueName(t, "mismatch")
			tt.have.Name, tt.want.Name = name, name
			declare(t, d, c, broker.Topology{Queues: []broker.Queue{tt.have}})

			err := c.Declare(context.Background(), broker.Topology{Queues: []broker.Queue{tt.want}})
			if err == nil {
				t.Fatal("declare with different arguments succeeded")
			}
			t.Logf("mismatch: %v", err)
			var me *MismatchError
			if !errors.Is(err, ErrMismatch) || !errors.As(err, &me) {
				t.Fatalf("error %v does not match ErrMismatch", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not contain %q and the queue name", err, tt.wantMsg)
			}
			var ae *amqp.Error
			if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
				t.Errorf("error does not wrap the 406: %v", err)
			}
			// The connection survives a channel-level 406.
			if _, err := c.Inspect(name); err != nil {
				t.Errorf("Inspect after mismatch: %v", err)
			}
		})
	}
}

// TestDeclareOverPlainQueue covers queues made by other tools without
// x-queue-type: RabbitMQ treats them as classic, so declaring classic over
// them works and declaring quorum explains itself.
func TestDeclareOverPlainQueue(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c := testConn(t, d)
	q := uniqueName(t, "plain")
	t.Cleanup(func() { deleteTopology(t, d, broker.Topology{Queues: []broker.Queue{{Name: q}}}) })
	err := c.withInspect(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Declare(context.Background(), broker.Topology{Queues: []broker.Queue{{Name: q, Type: broker.Classic}}}); err != nil {
		t.Errorf("classic over a plain queue: %v", err)
	}
	err = c.Declare(context.Background(), broker.Topology{Queues: []broker.Queue{{Name: q, Type: broker.Quorum}}})
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "exists as classic, not quorum; delete it or use --queue-type classic") {
		t.Errorf("quorum over a plain queue: %v", err)
	}
}

func TestCleanClose(t *testing.T) {
	t.Parallel()
	d := testDialer(t)
	c, err := d.dial(context.Background(), "test "+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.openChannel()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-c.Closed():
	default:
		t.Error("Closed not closed after Close")
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err after clean Close = %v, want nil", err)
	}
	select {
	case <-ch.Closed():
	case <-time.After(time.Second):
		t.Error("channel Closed not closed after connection Close")
	}
	if _, err := ch.Publish(context.Background(), broker.Message{RoutingKey: "x"}); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Publish after Close = %v, want broker.ErrClosed", err)
	}
	if err := ch.Ack(1); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Ack after Close = %v, want broker.ErrClosed", err)
	}
	if _, err := c.Channel(); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Channel after Close = %v, want broker.ErrClosed", err)
	}
	if _, err := c.Inspect("x"); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Inspect after Close = %v, want broker.ErrClosed", err)
	}
	if err := ch.Close(); err != nil {
		t.Errorf("channel Close after connection Close: %v", err)
	}
}

// TestServerClosesConnection has RabbitMQ close the connection (as an
// operator would from the management UI) and checks that Closed, Err, the
// channel and its consumer all notice.
func TestServerClosesConnection(t *testing.T) {
	t.Parallel()
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		if os.Getenv("OMS_REQUIRE_BROKER") == "1" {
			t.Fatalf("rabbitmqctl not on PATH (OMS_REQUIRE_BROKER=1): %v", err)
		}
		t.Skip("rabbitmqctl not on PATH")
	}
	d := testDialer(t)
	name := uniqueName(t, "conn")
	c, err := d.dial(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close after server close: %v", err)
		}
	})
	q := uniqueName(t, "q")
	declare(t, d, c, broker.Topology{Queues: []broker.Queue{{Name: q}}})
	ch := testChannel(t, c)
	ds, err := ch.Consume(q, "c", 1)
	if err != nil {
		t.Fatal(err)
	}

	pid := connectionPid(t, ctl, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, ctl, "close_connection", pid, "test "+t.Name()).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl close_connection: %v\n%s", err, out)
	}

	select {
	case <-c.Closed():
	case <-time.After(10 * time.Second):
		t.Fatal("Closed not closed within 10s of close_connection")
	}
	err = c.Err()
	t.Logf("Err: %v", err)
	var ae *amqp.Error
	if !errors.Is(err, broker.ErrClosed) || !errors.As(err, &ae) || ae.Code != amqp.ConnectionForced {
		t.Errorf("Err = %v, want broker.ErrClosed wrapping 320 CONNECTION_FORCED", err)
	}
	select {
	case <-ch.Closed():
	case <-time.After(time.Second):
		t.Error("channel Closed not closed")
	}
	select {
	case _, ok := <-ds:
		if ok {
			t.Error("unexpected delivery")
		}
	case <-time.After(time.Second):
		t.Error("delivery channel not closed")
	}
}

// connectionPid finds the pid of the connection named name, waiting for it
// to be listed. On RabbitMQ 3.10 the "name" column is "peer -> local"; the
// client-provided name is only in client_properties, printed as
// [{"product","AMQP 0.9.1 Client"},...,{"connection_name","<name>"},...].
func connectionPid(t testing.TB, ctl, name string) string {
	t.Helper()
	want := `{"connection_name","` + name + `"}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, ctl, "-q", "list_connections", "--no-table-headers", "pid", "client_properties").Output()
		cancel()
		if err != nil {
			t.Fatalf("rabbitmqctl list_connections: %v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			pid, props, ok := strings.Cut(sc.Text(), "\t")
			if ok && strings.Contains(props, want) {
				return strings.TrimSpace(pid)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %q not listed by rabbitmqctl:\n%s", name, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
