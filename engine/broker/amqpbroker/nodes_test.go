package amqpbroker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNodesRotateAndFailOver(t *testing.T) {
	t.Parallel()
	n := newNodes("amqp://u:secret@a:5681/, amqp://u:secret@b:5682/,amqp://u:secret@c:5683/")
	if got := n.describe(); strings.Contains(got, "secret") || strings.Count(got, ",") != 2 {
		t.Errorf("describe = %q", got)
	}
	down := map[string]bool{}
	dial := func(u string) (*Conn, error) {
		if down[u] {
			return nil, errors.New("down: " + u)
		}
		return &Conn{node: nodeName(u)}, nil
	}
	// Successive dials start at successive nodes: sessions spread.
	seen := map[string]int{}
	for range 3 {
		c, err := n.each(context.Background(), dial)
		if err != nil {
			t.Fatal(err)
		}
		seen[c.node]++
	}
	if len(seen) != 3 {
		t.Errorf("three dials landed on %v, want one on each node", seen)
	}
	// A node down: every dial lands on another one.
	down["amqp://u:secret@b:5682/"] = true
	for range 6 {
		c, err := n.each(context.Background(), dial)
		if err != nil {
			t.Fatal(err)
		}
		if c.node == "b:5682" {
			t.Fatalf("dialled the node that is down")
		}
	}
	// All down: every failure reported.
	down["amqp://u:secret@a:5681/"], down["amqp://u:secret@c:5683/"] = true, true
	_, err := n.each(context.Background(), dial)
	if err == nil || strings.Count(err.Error(), "down:") != 3 {
		t.Errorf("err = %v, want the three failures", err)
	}
}

func TestNodeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"amqp://g:g@localhost:5681/": "localhost:5681",
		"amqp://g:g@rabbit/":         "rabbit:5672",
		"amqps://g:g@rabbit/vh":      "rabbit:5671",
	} {
		if got := nodeName(in); got != want {
			t.Errorf("nodeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDialListSkipsDeadNode dials a list whose first node does not answer
// (nothing listens on port 1): the connection lands on the live broker.
func TestDialListSkipsDeadNode(t *testing.T) {
	t.Parallel()
	testDialer(t) // skips without a broker
	list := "amqp://guest:guest@127.0.0.1:1/," + testURL()
	d := New(list)
	d.nodes.next = 0 // the dead one first
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.dial(ctx, "test "+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Node() != nodeName(testURL()) {
		t.Errorf("on node %q, want %q", c.Node(), nodeName(testURL()))
	}
	if err := Ping(ctx, list); err != nil {
		t.Errorf("Ping of a list with one live node: %v", err)
	}
}

func TestRedactList(t *testing.T) {
	t.Parallel()
	got := Redact("amqp://u:pw1@a:5681/, amqp://u:pw2@b:5682/,amqp://u:p%zz@c/")
	if strings.Contains(got, "pw1") || strings.Contains(got, "pw2") || strings.Contains(got, "p%zz") {
		t.Errorf("Redact of a list kept a password: %q", got)
	}
	if strings.Count(got, ",") != 2 {
		t.Errorf("Redact of a list = %q, want three URLs", got)
	}
}
