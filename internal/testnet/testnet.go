// Package testnet gives tests network peers that misbehave on purpose.
// It imports nothing of oms-sim, so any package's tests may use it.
package testnet

import (
	"net"
	"sync"
	"testing"
)

// Server is a TCP listener whose connections a test's own code serves.
type Server struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
	loop  chan struct{}  // closed when the accept loop ends
	wg    sync.WaitGroup // the serve goroutines
	once  sync.Once
}

// Serve listens on addr ("127.0.0.1:0" for any port) and runs serve on
// a goroutine for each connection it accepts, closing the connection
// when serve returns; nil serve holds every connection open, silent,
// until Stop. Stop runs at cleanup too.
func Serve(t testing.TB, addr string, serve func(net.Conn)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, conns: map[net.Conn]bool{}, loop: make(chan struct{})}
	go func() {
		defer close(s.loop)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			if serve == nil {
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				serve(c)
			}()
		}
	}()
	t.Cleanup(s.Stop)
	return s
}

// Hanging is a Server that accepts connections and never says a word,
// like a wedged server or a wrong port.
func Hanging(t testing.TB, addr string) *Server { return Serve(t, addr, nil) }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Open counts the connections the server holds open.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Stop closes the listener and every connection, and waits for the
// server's goroutines; it may be called more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		s.ln.Close()
		<-s.loop // no connection comes in after this
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}
