package streamlog

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"oms-sim/internal/testnet"
)

// stallingServer speaks just enough of the stream protocol to pass Ping
// (it answers each connection's first frame, peer properties) and then
// never answers again: a node that is up but cannot serve the stream.
func stallingServer(t *testing.T) (url string, open func() int) {
	t.Helper()
	srv := testnet.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		var size [4]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(c, frame); err != nil {
			return
		}
		// peer properties response: key, version, correlation id, code OK, no properties
		resp := binary.BigEndian.AppendUint16(nil, respPeerProperties)
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = append(resp, frame[4:8]...)
		resp = binary.BigEndian.AppendUint16(resp, responseOK)
		resp = binary.BigEndian.AppendUint32(resp, 0)
		if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(resp))), resp...)); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c) // and then silence, until the client gives up
	})
	return "rabbitmq-stream://guest:guest@" + srv.Addr() + "/", srv.Open
}

// TestOpenIsBounded: a stream listener that answers but never serves must
// make Open fail with ErrUnreachable after OpenTimeout, not hang (issue 15:
// a cluster node the client could not use kept oms-sim from starting, and
// from stopping, for minutes).
func TestOpenIsBounded(t *testing.T) {
	t.Parallel()
	url, open := stallingServer(t)
	if err := Ping(context.Background(), url); err != nil {
		t.Fatalf("the fake server must pass Ping: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		l, err := Open(context.Background(), Config{URL: url, OpenTimeout: 500 * time.Millisecond})
		if l != nil {
			l.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute): // only a hang gets here, however busy the machine
		t.Fatal("Open did not return: it hangs on a stream it cannot use")
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want one wrapping ErrUnreachable", err)
	}
	t.Logf("Open: %v", err)
	// The client's abandoned attempt waits on the silent socket (some of
	// its reads have no timeout); the server's cleanup closes it, the
	// attempt then fails and its goroutine ends (goleak checks, in
	// TestMain). Nothing of it was handed out.
	settle(open)
}

// settle waits a while for the client's abandoned attempt to give up by
// itself: a wait with the client's RPC timeout (5 s) ends and closes its
// connection; one in getSaslMechanisms never does (see TestMain).
func settle(open func() int) {
	deadline := time.Now().Add(20 * time.Second)
	for open() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOpenHonoursContext: cancelling ctx ends a stuck Open at once.
func TestOpenHonoursContext(t *testing.T) {
	t.Parallel()
	url, open := stallingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Open(ctx, Config{URL: url, OpenTimeout: time.Hour})
		done <- err
	}()
	// Cancel once the client is in the middle of its set-up.
	for open() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("Open did not return after its context was cancelled")
	}
	settle(open)
}
