package engine

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestAppendJSONPadded pads to exactly the asked size across the sizes
// where the pad field does not fit (spaces instead) and where it does,
// and the padded body still decodes to the same order.
func TestAppendJSONPadded(t *testing.T) {
	t.Parallel()
	o := Order{OrderID: "01a2105d-dcd2-79e4-98a6-e4103c399f3e", ProductID: 12, Quantity: 2, UserID: 100,
		AmountCents: 3998, CreatedAt: time.Date(2026, 11, 25, 1, 41, 56, 562123456, time.UTC), Reason: `out "of" stock`}
	natural := o.AppendJSON(nil)
	for _, size := range []int{0, 1, len(natural) - 1, len(natural), len(natural) + 1, len(natural) + padOverhead - 1,
		len(natural) + padOverhead, len(natural) + padOverhead + 1, 1024, 70_000} {
		body := o.AppendJSONPadded([]byte("prefix"), size)[len("prefix"):]
		want := max(size, len(natural))
		if len(body) != want {
			t.Errorf("size %d: body of %d bytes, want %d", size, len(body), want)
		}
		if size <= len(natural) && !bytes.Equal(body, natural) {
			t.Errorf("size %d: body %s, want the natural JSON unchanged", size, body)
		}
		got, err := DecodeOrder(body)
		if err != nil {
			t.Fatalf("size %d: DecodeOrder: %v", size, err)
		}
		if !got.CreatedAt.Equal(o.CreatedAt) {
			t.Errorf("size %d: created_at %v, want %v", size, got.CreatedAt, o.CreatedAt)
		}
		got.CreatedAt = o.CreatedAt
		if got != o {
			t.Errorf("size %d: decoded %+v, want %+v", size, got, o)
		}
		var slow Order
		if err := json.Unmarshal(body, &slow); err != nil || slow.OrderID != o.OrderID {
			t.Errorf("size %d: encoding/json reads %+v (%v)", size, slow, err)
		}
		if un := unpadJSON(body); !bytes.Equal(un, natural) {
			t.Errorf("size %d: unpadded %s, want %s", size, un, natural)
		}
	}
}

// TestResendKeepsBodySize checks that a redelivery answered from memory
// (which keeps the body without its padding) publishes the padded size.
func TestResendKeepsBodySize(t *testing.T) {
	t.Parallel()
	msgs := messages{bodyBytes: 2048}
	m := msgs.build(Order{OrderID: "a", ProductID: 1, Quantity: 1, CreatedAt: time.Now()}, KeyPaymentSuccess)
	r := msgs.remember(m)
	if len(r.body) >= 300 {
		t.Errorf("remembered %d bytes, want the unpadded body", len(r.body))
	}
	again := msgs.resend(r)
	if len(again.Body) != 2048 || !bytes.Equal(again.Body, m.Body) {
		t.Errorf("resent %d bytes, want the original 2048-byte body", len(again.Body))
	}
}

// TestTransientMessages checks the delivery mode the engine publishes with.
func TestTransientMessages(t *testing.T) {
	t.Parallel()
	o := Order{OrderID: "a", ProductID: 1, Quantity: 1}
	if m := (messages{}).build(o, KeyOrderCreated); !m.Persistent {
		t.Error("default message is transient, want persistent (DESIGN.md §3)")
	}
	if m := (messages{transient: true}).build(o, KeyOrderCreated); m.Persistent {
		t.Error("Transient config publishes persistent messages")
	}
}
