// Package testnet gives tests network peers that misbehave on purpose.
// It imports nothing of oms-sim, so any package's tests may use it.
package testnet

import (
	"net"
	"sync"
	"testing"
)

// Hanging listens on addr ("127.0.0.1:0" for any port), accepts
// connections and never says a word, like a wedged server or a wrong
// port; stop (also run at cleanup) closes it and every connection it took.
func Hanging(t testing.TB, addr string) (ln net.Listener, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ln.Close()
			wg.Wait()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
	}
	t.Cleanup(stop)
	return ln, stop
}
