package amqpbroker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"oms-sim/engine/broker"
)

// loopback returns a batchConn over a TCP connection and the peer's end.
func loopback(t *testing.T) (*batchConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { peer.Close() })
	return newBatchConn(c), peer
}

// TestBatchConnKeepsEveryWriteInOrder writes from several goroutines at
// once (as amqp091 does, one frame group at a time under its lock) and
// reads back exactly what was written, each writer's frames in order.
func TestBatchConnKeepsEveryWriteInOrder(t *testing.T) {
	b, peer := loopback(t)
	const writers, each = 8, 2000
	var lock sync.Mutex // amqp091's sendM: one Write at a time
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				lock.Lock()
				_, err := fmt.Fprintf(b, "w%d:%05d;", w, i)
				lock.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(peer)
		got <- data
	}()
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data := <-got
	next := make([]int, writers)
	n := 0
	for _, rec := range bytes.Split(bytes.TrimSuffix(data, []byte(";")), []byte(";")) {
		var w, i int
		if _, err := fmt.Sscanf(string(rec), "w%d:%05d", &w, &i); err != nil || w < 0 || w >= writers {
			t.Fatalf("record %q: %v", rec, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: got frame %d, want %d", w, i, next[w])
		}
		next[w]++
		n++
	}
	if n != writers*each {
		t.Fatalf("read %d frames, wrote %d", n, writers*each)
	}
}

// TestBatchConnReportsWriteErrors: once the socket fails, the next Write
// says so, and a writer waiting for buffer space is released.
func TestBatchConnReportsWriteErrors(t *testing.T) {
	b, peer := loopback(t)
	peer.Close()
	chunk := make([]byte, 64<<10)
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = b.Write(chunk)
	}
	if err == nil {
		t.Fatal("writes to a closed peer kept succeeding for 10 s")
	}
	if _, err2 := b.Write([]byte("x")); err2 == nil {
		t.Fatal("the error was not sticky")
	}
	if err := b.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("close: %v", err)
	}
}

// TestBatchConnBlocksWhenThePeerStopsReading: a peer that reads nothing
// fills the socket buffers, then the batch bound holds writers back
// (backpressure, as without batching) until Close releases them.
func TestBatchConnBlocksWhenThePeerStopsReading(t *testing.T) {
	b, _ := loopback(t)
	chunk := make([]byte, 64<<10)
	blocked := make(chan error, 1)
	go func() {
		for {
			if _, err := b.Write(chunk); err != nil {
				blocked <- err
				return
			}
		}
	}()
	select {
	case err := <-blocked:
		t.Fatalf("writes failed instead of blocking: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	b.mu.Lock()
	waiting := len(b.buf)
	b.mu.Unlock()
	if waiting < maxBatched {
		t.Fatalf("writer not held back: %d bytes waiting, bound %d", waiting, maxBatched)
	}
	go b.Close()
	select {
	case err := <-blocked:
		if err == nil {
			t.Fatal("no error after close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a blocked writer was not released by Close")
	}
}

// TestWriteBatchingAgainstRabbitMQ publishes and consumes through a
// connection with write batching on (New's default) and off on the real
// broker: every message confirmed, delivered once and acked, from many
// concurrent publishers.
func TestWriteBatchingAgainstRabbitMQ(t *testing.T) {
	t.Parallel()
	if d := New("amqp://localhost/"); !d.WritesBatched() {
		t.Fatal("New's dialer does not batch writes; batching is the default")
	}
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("batched=%v", on), func(t *testing.T) {
			t.Parallel()
			publishThroughBatching(t, on)
		})
	}
}

func publishThroughBatching(t *testing.T, on bool) {
	base := testDialer(t)
	d := New(base.url, WithWriteBatching(on))
	if d.WritesBatched() != on {
		t.Fatalf("WritesBatched %v after WithWriteBatching(%v)", d.WritesBatched(), on)
	}
	c := testConn(t, d)
	q := uniqueName(t, "batch")
	declare(t, d, c, broker.Topology{Queues: []broker.Queue{{Name: q}}})
	const publishers, each = 4, 250
	var wg sync.WaitGroup
	for p := range publishers {
		ch := testChannel(t, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			confirms := make([]broker.Confirm, 0, each)
			for i := range each {
				cf, err := ch.Publish(context.Background(), broker.Message{RoutingKey: q, Body: fmt.Appendf(nil, "%d-%d", p, i)})
				if err != nil {
					t.Error(err)
					return
				}
				confirms = append(confirms, cf)
			}
			for _, cf := range confirms {
				select {
				case <-cf.Done():
				case <-time.After(10 * time.Second):
					t.Error("no confirm within 10 s")
					return
				}
				if !cf.Acked() {
					t.Error("publish nacked")
					return
				}
			}
		}()
	}
	wg.Wait()
	ch := testChannel(t, c)
	ds, err := ch.Consume(q, "batch", 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < publishers*each {
		m := receive(t, ds, 10*time.Second)
		if seen[string(m.Body)] {
			t.Fatalf("%q delivered twice", m.Body)
		}
		seen[string(m.Body)] = true
		if err := ch.Ack(m.Tag); err != nil {
			t.Fatal(err)
		}
	}
}
