package amqpbroker

import (
	"errors"
	"net"
	"sync"
	"time"
)

// batchConn groups the frames amqp091 writes into fewer write syscalls.
//
// amqp091 flushes its buffered writer after every publish and every ack,
// under a lock per connection, so each frame group is one write(2) and the
// goroutines sharing a connection queue behind each other's syscalls
// (bench/RESULTS.md §17: 27 % of the engine's CPU in write at the
// ceiling). batchConn's Write only copies into a buffer and wakes a
// flusher goroutine, which writes whatever has gathered since its last
// write in one syscall: one frame group when the connection is quiet, many
// when it is busy — group commit.
//
// A write error is reported by the next Write (and closes the socket, so
// that amqp091's reader fails and the connection shuts down as it would
// have); frames accepted before it are lost with the connection, as they
// would be in the socket's own buffer. Writers block while more than
// maxBatched bytes wait, so a broker that stops reading (TCP flow control,
// a blocked connection) holds back the publishers as before.
type batchConn struct {
	net.Conn

	mu      sync.Mutex
	space   *sync.Cond // signalled when the flusher took the buffer, or on error/close
	buf     []byte     // frames waiting to be written
	spare   []byte     // the flusher's last batch, reused
	err     error      // sticky write error
	closing bool

	wake chan struct{} // cap 1: the buffer is not empty
	done chan struct{} // closed when the flusher has returned
}

// maxBatched bounds the bytes waiting to be written.
const maxBatched = 1 << 20

// closeFlushTimeout bounds how long Close waits for the last frames (the
// connection.close method) to be written.
const closeFlushTimeout = time.Second

var errBatchClosed = errors.New("amqp connection closed")

func newBatchConn(c net.Conn) *batchConn {
	b := &batchConn{Conn: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.space = sync.NewCond(&b.mu)
	go b.flushLoop()
	return b
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	for len(b.buf) >= maxBatched && b.err == nil && !b.closing {
		b.space.Wait()
	}
	switch {
	case b.err != nil:
		err := b.err
		b.mu.Unlock()
		return 0, err
	case b.closing:
		b.mu.Unlock()
		return 0, errBatchClosed
	}
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // the flusher is already due to look
	}
	return len(p), nil
}

// flushLoop owns the socket's writes until the connection closes.
func (b *batchConn) flushLoop() {
	defer close(b.done)
	for range b.wake {
		b.mu.Lock()
		out := b.buf
		b.buf, b.spare = b.spare[:0], nil
		closing := b.closing
		b.space.Broadcast()
		b.mu.Unlock()
		if len(out) > 0 {
			if _, err := b.Conn.Write(out); err != nil {
				b.mu.Lock()
				b.err = err
				b.space.Broadcast()
				b.mu.Unlock()
				_ = b.Conn.Close() // the reader fails too: the connection shuts down
				return
			}
		}
		b.mu.Lock()
		b.spare = out
		empty := len(b.buf) == 0
		b.mu.Unlock()
		if closing && empty {
			return
		}
	}
}

// Close writes what is waiting (for at most closeFlushTimeout), stops the
// flusher and closes the socket.
func (b *batchConn) Close() error {
	b.mu.Lock()
	already := b.closing
	b.closing = true
	b.space.Broadcast()
	b.mu.Unlock()
	if !already {
		select {
		case b.wake <- struct{}{}:
		default:
		}
		t := time.NewTimer(closeFlushTimeout)
		select {
		case <-b.done:
		case <-t.C:
		}
		t.Stop()
	}
	return b.Conn.Close()
}
