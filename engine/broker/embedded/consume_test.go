package embedded

import (
	"fmt"
	"testing"

	"oms-sim/engine/broker"
)

func workQueue(t testing.TB) broker.Conn {
	t.Helper()
	_, c := testBroker(t)
	declare(t, c, oneQueue("orders", broker.Topic, "work", "#"))
	return c
}

func publishN(t testing.TB, ch broker.Channel, n int) {
	t.Helper()
	for i := range n {
		publish(t, ch, "orders", "order.created", fmt.Sprint(i))
	}
}

func TestFIFO(t *testing.T) {
	t.Parallel()
	for _, prefetch := range []int{0, 1, 10} {
		t.Run(fmt.Sprintf("prefetch %d", prefetch), func(t *testing.T) {
			t.Parallel()
			c := workQueue(t)
			ch := openChannel(t, c)
			const n = 500
			publishN(t, ch, n/2)
			ds := consume(t, ch, "work", "c", prefetch)
			publishN(t, ch, n/2) // half published before, half after consuming
			for i := range n {
				d := recv(t, ds)
				if want := fmt.Sprint(i % (n / 2)); string(d.Body) != want {
					t.Fatalf("delivery %d: body %q, want %q", i, d.Body, want)
				}
				ack(t, ch, d)
			}
		})
	}
}

func TestPrefetchLimit(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 5)
	ds := consume(t, ch, "work", "c", 2)
	d0, d1 := recv(t, ds), recv(t, ds)
	recvNothing(t, ds) // two unacked: the third must wait
	if got := ready(t, c, "work"); got != 3 {
		t.Errorf("ready %d, want 3", got)
	}
	ack(t, ch, d0)
	if d := recv(t, ds); string(d.Body) != "2" {
		t.Errorf("after ack got %q, want 2", d.Body)
	}
	recvNothing(t, ds)
	if err := ch.Nack(d1.Tag, false); err != nil { // a nack frees credit too
		t.Fatal(err)
	}
	if d := recv(t, ds); string(d.Body) != "3" {
		t.Errorf("after nack got %q, want 3", d.Body)
	}
}

func TestRoundRobin(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	a := consume(t, ch, "work", "a", 10)
	b := consume(t, ch, "work", "b", 10)
	publishN(t, ch, 6)
	for i := range 3 {
		if d := recv(t, a); string(d.Body) != fmt.Sprint(2*i) {
			t.Errorf("consumer a got %q, want %d", d.Body, 2*i)
		}
		if d := recv(t, b); string(d.Body) != fmt.Sprint(2*i+1) {
			t.Errorf("consumer b got %q, want %d", d.Body, 2*i+1)
		}
	}
	info, err := c.Inspect("work")
	if err != nil {
		t.Fatal(err)
	}
	if info.Consumers != 2 || info.Ready != 0 {
		t.Errorf("inspect = %+v, want 2 consumers, 0 ready", info)
	}
}

// TestRoundRobinSkipsBusy checks that a consumer without prefetch credit is
// skipped rather than stalling the queue.
func TestRoundRobinSkipsBusy(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	busy := consume(t, ch, "work", "busy", 1)
	free := consume(t, ch, "work", "free", 0)
	publishN(t, ch, 4)
	if d := recv(t, busy); string(d.Body) != "0" {
		t.Errorf("busy got %q", d.Body)
	}
	for _, want := range []string{"1", "2", "3"} {
		if d := recv(t, free); string(d.Body) != want {
			t.Errorf("free got %q, want %s", d.Body, want)
		}
	}
}

func TestNackRequeue(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 2)
	ds := consume(t, ch, "work", "c", 1)
	d := recv(t, ds)
	if d.Redelivered {
		t.Error("first delivery marked redelivered")
	}
	if err := ch.Nack(d.Tag, true); err != nil {
		t.Fatal(err)
	}
	again := recv(t, ds)
	if string(again.Body) != "0" || !again.Redelivered {
		t.Errorf("after requeue got %q redelivered=%v, want 0 redelivered", again.Body, again.Redelivered)
	}
	if again.Tag == d.Tag {
		t.Error("redelivery reused the delivery tag")
	}
	ack(t, ch, again)
	if d := recv(t, ds); string(d.Body) != "1" || d.Redelivered {
		t.Errorf("next got %q redelivered=%v", d.Body, d.Redelivered)
	}
}

func TestNackWithoutDLXDrops(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 1)
	ds := consume(t, ch, "work", "c", 1)
	if err := ch.Nack(recv(t, ds).Tag, false); err != nil {
		t.Fatal(err)
	}
	recvNothing(t, ds)
	if got := ready(t, c, "work"); got != 0 {
		t.Errorf("ready %d, want 0", got)
	}
}

func TestUnknownDeliveryTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		settle func(broker.Channel, uint64) error
	}{
		{"ack", func(ch broker.Channel, tag uint64) error { return ch.Ack(tag) }},
		{"nack", func(ch broker.Channel, tag uint64) error { return ch.Nack(tag, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := workQueue(t)
			ch := openChannel(t, c)
			publishN(t, ch, 1)
			d := recv(t, consume(t, ch, "work", "c", 1))
			ack(t, ch, d)
			wantErr(t, tt.settle(ch, d.Tag), ErrPreconditionFailed) // double settle
			waitClosed(t, "channel", ch.Closed())
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 4)
	ds := consume(t, ch, "work", "c", 2)
	d0, d1 := recv(t, ds), recv(t, ds)
	if err := ch.Cancel("c"); err != nil {
		t.Fatal(err)
	}
	recvClosed(t, ds)
	info, err := c.Inspect("work")
	if err != nil {
		t.Fatal(err)
	}
	if info.Consumers != 0 || info.Ready != 2 {
		t.Errorf("after cancel inspect = %+v, want 0 consumers, 2 ready", info)
	}
	// Deliveries handed out before Cancel can still be settled.
	ack(t, ch, d0)
	if err := ch.Nack(d1.Tag, true); err != nil {
		t.Fatal(err)
	}
	if got := ready(t, c, "work"); got != 3 {
		t.Errorf("ready %d, want 3", got)
	}
	if err := ch.Cancel("c"); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	// The tag is free again and the requeued message comes first.
	d := recv(t, consume(t, ch, "work", "c", 1))
	if string(d.Body) != "1" || !d.Redelivered {
		t.Errorf("got %q redelivered=%v, want 1 redelivered", d.Body, d.Redelivered)
	}
}

// TestCancelReturnsUnreceived checks that messages assigned to a consumer
// but never received (prefetch 0 pushes the whole queue at it) go back.
func TestCancelReturnsUnreceived(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 100)
	ds := consume(t, ch, "work", "c", 0)
	d := recv(t, ds)
	if err := ch.Cancel("c"); err != nil {
		t.Fatal(err)
	}
	if got := ready(t, c, "work"); got != 99 {
		t.Errorf("ready %d, want 99", got)
	}
	if err := ch.Nack(d.Tag, true); err != nil {
		t.Fatal(err)
	}
	ds = consume(t, ch, "work", "again", 0)
	for i := range 100 {
		d := recv(t, ds)
		if string(d.Body) != fmt.Sprint(i) {
			t.Fatalf("delivery %d: got %q", i, d.Body)
		}
		if d.Redelivered != (i == 0) {
			t.Errorf("delivery %d: redelivered=%v", i, d.Redelivered)
		}
		ack(t, ch, d)
	}
}

func TestChannelCloseRequeues(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 3)
	ds := consume(t, ch, "work", "c", 2)
	recv(t, ds)
	recv(t, ds)
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, "channel", ch.Closed())
	recvClosed(t, ds)
	if err := ch.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	for _, err := range []error{ch.Ack(1), ch.Cancel("c")} {
		wantErr(t, err, broker.ErrClosed)
	}
	if _, err := ch.Consume("work", "c", 1); err == nil {
		t.Error("consume on closed channel succeeded")
	}

	other := openChannel(t, c)
	ds = consume(t, other, "work", "c", 0)
	for i, want := range []bool{true, true, false} {
		d := recv(t, ds)
		if string(d.Body) != fmt.Sprint(i) || d.Redelivered != want {
			t.Errorf("delivery %d: got %q redelivered=%v, want %d redelivered=%v", i, d.Body, d.Redelivered, i, want)
		}
	}
}

func TestConsumeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		queue     string
		tag       string
		prefetch  int
		want      error
		closesCh  bool
		preExists bool
	}{
		{name: "missing queue", queue: "nope", tag: "a", want: ErrNotFound, closesCh: true},
		{name: "duplicate tag", queue: "work", tag: "dup", want: ErrPreconditionFailed, closesCh: true, preExists: true},
		{name: "negative prefetch", queue: "work", tag: "a", prefetch: -1, want: ErrPreconditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := workQueue(t)
			ch := openChannel(t, c)
			if tt.preExists {
				consume(t, ch, "work", tt.tag, 1)
			}
			_, err := ch.Consume(tt.queue, tt.tag, tt.prefetch)
			wantErr(t, err, tt.want)
			select {
			case <-ch.Closed():
				if !tt.closesCh {
					t.Error("channel closed")
				}
			default:
				if tt.closesCh {
					waitClosed(t, "channel", ch.Closed())
				}
			}
		})
	}
}

// TestAckUpTo: a multiple ack settles every delivery up to its tag, frees
// their prefetch credit, and leaves later ones unacked (they come back
// when the channel closes); an unknown tag is a channel error.
func TestAckUpTo(t *testing.T) {
	t.Parallel()
	c := workQueue(t)
	ch := openChannel(t, c)
	publishN(t, ch, 6)
	ds := consume(t, ch, "work", "c", 3)
	recv(t, ds)
	d1 := recv(t, ds)
	recv(t, ds)
	recvNothing(t, ds)
	if err := ch.AckUpTo(d1.Tag); err != nil {
		t.Fatal(err)
	}
	// Two credits back: deliveries 3 and 4 arrive, 5 waits.
	if a, b := recv(t, ds), recv(t, ds); string(a.Body) != "3" || string(b.Body) != "4" {
		t.Errorf("after the multiple ack got %q and %q, want 3 and 4", a.Body, b.Body)
	}
	recvNothing(t, ds)
	ch.Close()
	// 2, 3 and 4 were never acked: back in the queue with 5.
	if got := ready(t, c, "work"); got != 4 {
		t.Errorf("ready %d after close, want 4", got)
	}
	ch2 := openChannel(t, c)
	if err := ch2.AckUpTo(99); err == nil {
		t.Error("ack up to an unknown tag succeeded")
	}
}
