package amqpbroker

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"amqp://guest:guest@localhost:5672/", "amqp://guest@localhost:5672/"},
		{"amqp://guest@localhost:5672/", "amqp://guest@localhost:5672/"},
		{"amqp://localhost", "amqp://localhost"},
		{"amqps://u:s3cret@rabbit.example.com:5671/prod?heartbeat=5", "amqps://u@rabbit.example.com:5671/prod?heartbeat=5"},
		{"amqp://u:p%40ss@h/", "amqp://u@h/"},
		{"amqp://u:bad%zzpass@h:5672/", "amqp://u@h:5672/"}, // does not parse
		{"u:pw@h", "u@h"}, // no scheme, does not parse
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("guest", "guest", "localhost:5672")
	f.Add("u", "p%zz", "h")
	f.Add("u", "p@ss", "h")
	f.Fuzz(func(t *testing.T, user, pass, host string) {
		// Skip passwords that are not passwords to a URL parser (a '/'
		// ends the authority), ones too short to search for meaningfully,
		// and ones that occur elsewhere in the URL, raw or escaped.
		if len(pass) < 4 || strings.ContainsAny(pass, "/?#") || strings.ContainsAny(user+host, ":@/?#") ||
			strings.Contains(user+host, pass) || strings.Contains(Redact("amqp://"+user+"@"+host+"/"), pass) {
			return
		}
		got := Redact("amqp://" + user + ":" + pass + "@" + host + "/")
		if strings.Contains(got, pass) {
			t.Errorf("Redact leaked password %q: %q", pass, got)
		}
	})
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	if got := New("amqp://guest:guest@localhost:5672/").Describe(); got != "amqp://guest@localhost:5672/" {
		t.Errorf("Describe = %q", got)
	}
}

func TestQueueArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		q       broker.Queue
		want    amqp.Table
		wantErr bool
	}{
		{"default classic", broker.Queue{Name: "q"}, amqp.Table{"x-queue-type": "classic"}, false},
		{"quorum with retry", broker.Queue{Name: "q", Type: broker.Quorum, TTL: 100 * time.Millisecond, DeadLetterExchange: "orders", DeadLetterRoutingKey: "work"},
			amqp.Table{"x-queue-type": "quorum", "x-message-ttl": int64(100), "x-dead-letter-exchange": "orders", "x-dead-letter-routing-key": "work",
				"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}, false},
		{"quorum delivery limit", broker.Queue{Name: "q", Type: broker.Quorum, DeliveryLimit: 20},
			amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(20)}, false},
		{"classic ignores the delivery limit", broker.Queue{Name: "q", DeliveryLimit: 20}, amqp.Table{"x-queue-type": "classic"}, false},
		{"negative delivery limit", broker.Queue{Name: "q", Type: broker.Quorum, DeliveryLimit: -1}, nil, true},
		{"sub-ms ttl rounds up", broker.Queue{Name: "q", TTL: time.Microsecond}, amqp.Table{"x-queue-type": "classic", "x-message-ttl": int64(1)}, false},
		{"unknown type", broker.Queue{Name: "q", Type: "stream"}, nil, true},
		{"negative ttl", broker.Queue{Name: "q", TTL: -time.Second}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := queueArgs(tt.q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("args = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("args[%q] = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

func TestToTable(t *testing.T) {
	t.Parallel()
	now := time.Now()
	in := map[string]any{
		"x-published-at": int(now.UnixNano()),
		"x-attempt":      3,
		"u":              uint64(7),
		"d":              time.Second,
		"tags":           []string{"a", "b"},
		"nested":         map[string]any{"n": 1},
		"s":              "str",
		"t":              now,
	}
	got, err := toTable(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("amqp091 rejects converted table: %v", err)
	}
	if got["x-published-at"] != now.UnixNano() {
		t.Errorf("x-published-at = %#v, want int64 %d", got["x-published-at"], now.UnixNano())
	}
	if got["x-attempt"] != int64(3) || got["u"] != int64(7) || got["d"] != int64(time.Second) {
		t.Errorf("ints not widened: %#v", got)
	}
	if nt, ok := got["nested"].(amqp.Table); !ok || nt["n"] != int64(1) {
		t.Errorf("nested = %#v", got["nested"])
	}

	bad := []map[string]any{
		{"u": uint64(math.MaxUint64)},
		{"c": make(chan int)},
		{"nested": map[string]any{"f": func() {}}},
	}
	for _, h := range bad {
		if _, err := toTable(h); err == nil {
			t.Errorf("toTable(%v): no error", h)
		}
	}
}

func TestExplainDeclare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason string
		want   string
	}{
		{
			"PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'oms.payment' in vhost '/': received the value 'quorum' of type 'longstr' but current is the value 'classic' of type 'longstr'",
			"it exists as classic, not quorum; delete it or use --queue-type classic",
		},
		{
			"PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'oms.payment' in vhost '/': received the value 'quorum' of type 'longstr' but current is none",
			"it exists as classic, not quorum; delete it or use --queue-type classic",
		},
		{
			"PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received the value '100' of type 'long' but current is the value '1000' of type 'long'",
			"it exists with x-message-ttl 1000, not 100; delete it or declare it the same way",
		},
		{
			"PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'orders' in vhost '/': received 'fanout' but current is 'topic'",
			"it exists with type topic, not fanout; delete it or declare it the same way",
		},
		{
			"PRECONDITION_FAILED - something new",
			"it exists with different arguments; delete it or declare it the same way: Exception (406) Reason: \"PRECONDITION_FAILED - something new\"",
		},
	}
	for _, tt := range tests {
		ae := &amqp.Error{Code: amqp.PreconditionFailed, Reason: tt.reason, Server: true}
		err := explainDeclare("queue", "q", ae)
		if err.Error() != tt.want {
			t.Errorf("reason %q:\n got %q\nwant %q", tt.reason, err.Error(), tt.want)
		}
		var got *amqp.Error
		if !errors.Is(err, ErrMismatch) || !errors.As(err, &got) || got != ae {
			t.Errorf("reason %q: error %v does not match ErrMismatch and the *amqp.Error", tt.reason, err)
		}
	}

	if err := explainDeclare("queue", "q", amqp.ErrClosed); !errors.Is(err, broker.ErrClosed) || errors.Is(err, ErrMismatch) {
		t.Errorf("closed: %v", err)
	}
}

func TestValidateTopology(t *testing.T) {
	t.Parallel()
	bad := broker.Topology{
		Exchanges: []broker.Exchange{{Name: "", Kind: broker.Topic}, {Name: "x", Kind: "headerz"}},
		Queues:    []broker.Queue{{Name: ""}, {Name: "q", Type: "stream"}},
		Bindings:  []broker.Binding{{Exchange: "x", Key: "k"}},
	}
	_, err := validate(bad)
	if err == nil {
		t.Fatal("no error")
	}
	// Every problem is reported, not just the first.
	for _, want := range []string{"empty name (the default exchange", `unknown kind "headerz"`, "declare queue: empty name", `unknown queue type "stream"`, "empty queue or exchange name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	good := broker.Topology{
		Exchanges: []broker.Exchange{{Name: "orders"}, {Name: "orders.dlx", Kind: broker.Direct}},
		Queues:    []broker.Queue{{Name: "oms.payment", Type: broker.Quorum}},
		Bindings:  []broker.Binding{{Exchange: "orders", Queue: "oms.payment", Key: "order.created"}},
	}
	if _, err := validate(good); err != nil {
		t.Errorf("valid topology: %v", err)
	}
}
