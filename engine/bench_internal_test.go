package engine

import (
	"testing"
	"time"
)

var benchBody = []byte(`{"order_id":"01a2105d-dcd2-79e4-98a6-e4103c399f3e","product_id":12,"quantity":2,"user_id":100,"amount_cents":3998,"created_at":"2026-11-25T01:41:56.562123456Z"}`)

func BenchmarkDecodeOrder(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeOrder(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	o := Order{OrderID: "x", ProductID: 1, Quantity: 2, UserID: 3, AmountCents: 4000, CreatedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := renderEmail(KeyInventoryUpdated, o); err != nil {
			b.Fatal(err)
		}
	}
}
