package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// FuzzAppendEventJSON holds the append encoders to encoding/json: for any
// event (with or without an order) they must write the same bytes.
func FuzzAppendEventJSON(f *testing.F) {
	f.Add("", "01a210ca-3010-7079-9ba8-7efb32a64f95", EventPaid, "payment", "payment-2", "vm-1", "charged $116.07",
		int64(1764042015760031823), 0, true, 23, 3, 799, int64(11607), "", int64(0), int64(95))
	f.Add("run-1", "", EventArrival, "", "", "p", "500000", int64(0), 3600, true, 46, 3, 971, int64(0), "", int64(1500), int64(0))
	f.Add("", "id", EventDeclined, "payment", "w", "p", "card <declined> & \"refused\"\n\u2028é\xff", int64(-1), -7200, true, 1, 1, 0, int64(-5), "insufficient funds\t", int64(-3), int64(-4))
	f.Add("", "x", EventConfirmed, "email", "email-1", "host", "Your order is confirmed (x) → a@b", int64(1), 0, false, 0, 0, 0, int64(0), "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, runID, orderID, typ, stage, worker, process, detail string,
		nanos int64, zone int, withOrder bool, product, qty, user int, amount int64, reason string, wait, service int64) {
		ev := Event{RunID: runID, OrderID: orderID, Type: typ, Stage: stage, Worker: worker, Process: process,
			Time: time.Unix(0, nanos).In(time.FixedZone("z", zone%86400)), Detail: detail, WaitUS: wait, ServiceUS: service}
		if withOrder {
			ev.Order = &Order{OrderID: orderID, ProductID: product, Quantity: qty, UserID: user,
				AmountCents: amount, CreatedAt: ev.Time.Add(time.Duration(qty)), Reason: reason, DrawKey: process}
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Skip("encoding/json refuses it:", err) // a time zone it cannot write
		}
		if got := ev.AppendJSON([]byte("prefix")); !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("AppendJSON:\n got %s\nwant %s", got[len("prefix"):], want)
		}
		if ev.Order == nil {
			return
		}
		// The padded order body (Config.BodyBytes) is the plain one plus
		// padding that encoding/json ignores and unpadJSON removes.
		plain := ev.Order.AppendJSON(nil)
		size := len(plain) + int(uint64(wait)%300)
		padded := ev.Order.AppendJSONPadded([]byte("prefix"), size)[len("prefix"):]
		if len(padded) != size {
			t.Fatalf("AppendJSONPadded: %d bytes, want %d: %s", len(padded), size, padded)
		}
		var a, b map[string]any
		if err := json.Unmarshal(plain, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(padded, &b); err != nil {
			t.Fatalf("padded body %s: %v", padded, err)
		}
		delete(b, "pad")
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("padded body reads %v, want %v", b, a)
		}
		if un := unpadJSON(padded); !bytes.Equal(un, plain) {
			t.Fatalf("unpadJSON:\n got %s\nwant %s", un, plain)
		}
	})
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := Event{OrderID: "01a210ca-3010-7079-9ba8-7efb32a64f95", Type: EventPaid, Stage: "payment",
		Worker: "payment-2", Process: "vm-16171", Time: time.Now(), Detail: "charged $116.07",
		Order: &Order{OrderID: "01a210ca-3010-7079-9ba8-7efb32a64f95", ProductID: 23, Quantity: 3,
			UserID: 799, AmountCents: 11607, CreatedAt: time.Now()}}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = ev.AppendJSON(buf[:0])
		}
	})
}
