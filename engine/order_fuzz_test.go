package engine

import (
	"encoding/json"
	"errors"
	"testing"
)

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100}`))
	f.Add([]byte(`{"product_id":1,"quantity":2,"user_id":100}`))
	f.Add([]byte(`{"product_id":"1"}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"quantity":-1,"product_id":3}`))
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100,"pad":"xxxxxxxxxxxxxxxx"}`))
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100    }`))
	f.Add([]byte(`{"pad":"xx","product_id":1,"quantity":2,"pad":3}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOrder(body)
		if err != nil {
			return
		}
		if o.ProductID < 1 || o.Quantity < 1 {
			t.Fatalf("accepted invalid order %+v", o)
		}
		// A decoded order must survive a round trip unchanged.
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := DecodeOrder(b)
		if err != nil || o2.OrderID != o.OrderID || o2.ProductID != o.ProductID || o2.Quantity != o.Quantity {
			t.Fatalf("round trip: %+v -> %+v (%v)", o, o2, err)
		}
		// So must one padded to a body size (Config.BodyBytes).
		size := len(body) + 50
		p := o.AppendJSONPadded(nil, size)
		o3, err := DecodeOrder(p)
		if err != nil || len(p) < size || o3.OrderID != o.OrderID || o3.ProductID != o.ProductID || o3.Quantity != o.Quantity || o3.Reason != o.Reason {
			t.Fatalf("padded round trip (%d bytes, want ≥ %d): %+v -> %+v (%v)", len(p), size, o, o3, err)
		}
	})
}

func FuzzDecodeOrderRequest(f *testing.F) {
	f.Add([]byte(`{"product_id": 1, "quantity": 2, "user_id": 100}`))
	f.Add([]byte(`{"product_id": 1.5, "quantity": 2, "user_id": 100}`))
	f.Add([]byte(`{"product_id": 1, "quantity": 2, "user_id": 100} x`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeOrderRequest(body, func(id int) bool { return id <= 50 })
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			return
		}
		if req.ProductID < 1 || req.ProductID > 50 || req.Quantity < 1 || req.UserID < 0 {
			t.Fatalf("accepted invalid request %+v from %q", req, body)
		}
	})
}

// FuzzDecodeOrderFast checks the fast decoder against encoding/json: when
// it accepts a body, encoding/json must accept it too and agree exactly.
func FuzzDecodeOrderFast(f *testing.F) {
	f.Add(benchBody)
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100}`))
	f.Add([]byte(` { "Product_ID" : 3 , "quantity":-0 } `))
	f.Add([]byte(`{"product_id":01}`))
	f.Add([]byte(`{"created_at":"2026-11-25T01:41:56Z","x":"y","product_id":1,"product_id":2}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100,"pad":"xxxxxxxxxxxxxxxx"}`))
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100     }`))
	f.Add([]byte(`{"PAD":"x","Pad":1,"product_id":1}`))
	f.Add([]byte(`{"order_id":"a","product_id":1,"quantity":2,"user_id":100,"draw_key":"42/17"}`))
	f.Add([]byte(`{"Draw_Key":"x","draw_key":"y"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := DecodeOrderFast(body)
		if !ok {
			return
		}
		var slow Order
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", body, err)
		}
		if !fast.CreatedAt.Equal(slow.CreatedAt) {
			t.Fatalf("%q: created_at %v vs %v", body, fast.CreatedAt, slow.CreatedAt)
		}
		fast.CreatedAt = slow.CreatedAt
		if fast != slow {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// FuzzDecodeRequestFast checks the request's fast path against the
// encoding/json one: when it takes a body, encoding/json must take it too
// and agree exactly; and DecodeOrderRequest (both paths) agrees with the
// encoding/json path on every body, errors included.
func FuzzDecodeRequestFast(f *testing.F) {
	f.Add([]byte(`{"product_id":12,"quantity":3,"user_id":4567}`))
	f.Add([]byte(`{"product_id": 1, "quantity": 2, "user_id": 0, "note": "x", "n": -4}`))
	f.Add([]byte(`{"product_id":1,"quantity":2,"user_id":100,"product_id":7}`))
	f.Add([]byte(`{"product_id":0,"quantity":2,"user_id":100}`))
	f.Add([]byte(`{"product_id":1,"quantity":2}`))
	f.Add([]byte(`{"product_id":1,"quantity":2,"user_id":-0}`))
	f.Add([]byte(`{"product_id":1,"quantity":2147483648,"user_id":1}`))
	f.Add([]byte(`{"product_id":"1","quantity":2,"user_id":1}`))
	f.Add([]byte(`{"Product_ID":1,"product_id":2,"quantity":2,"user_id":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		slow, serr := decodeRequestJSON(body)
		if fast, ok := decodeRequestFast(body); ok {
			if serr != nil {
				t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, serr)
			}
			if fast != slow {
				t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
			}
		}
		got, err := DecodeOrderRequest(body, nil)
		if (err == nil) != (serr == nil) || got != slow || (err != nil && err.Error() != serr.Error()) {
			t.Fatalf("%q: DecodeOrderRequest %+v, %v; encoding/json %+v, %v", body, got, err, slow, serr)
		}
	})
}
