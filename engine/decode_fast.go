package engine

import (
	"bytes"
	"strconv"
	"strings"
)

// DecodeOrderFast decodes the common case of an order body — one flat
// JSON object whose values are plain strings and integers, as every stage
// publishes and the order API answers — without reflection. It reports
// ok=false for anything else (escapes, floats, null, nesting, near-miss
// key spellings, malformed input), and the caller falls back to
// encoding/json, so the result is always what encoding/json would give
// decoding into an Order. FuzzDecodeOrderFast checks that. Unlike
// DecodeOrder it does not validate the fields.
func DecodeOrderFast(b []byte) (o Order, ok bool) {
	ok = scanFlat(b, func(key, raw []byte, str bool, n int64) bool {
		if str {
			switch string(key) {
			case "order_id":
				o.OrderID = string(raw[1 : len(raw)-1])
				return true
			case "reason":
				o.Reason = string(raw[1 : len(raw)-1])
				return true
			case "draw_key":
				o.DrawKey = string(raw[1 : len(raw)-1])
				return true
			case "created_at":
				return o.CreatedAt.UnmarshalJSON(raw) == nil
			}
		} else {
			switch string(key) {
			case "product_id":
				o.ProductID = int(n)
				return true
			case "quantity":
				o.Quantity = int(n)
				return true
			case "user_id":
				o.UserID = int(n)
				return true
			case "amount_cents":
				o.AmountCents = n
				return true
			}
		}
		return otherKey(key)
	})
	if !ok {
		return Order{}, false
	}
	return o, true
}

// decodeRequestFast decodes the common case of a POST /api/orders body:
// one flat object with the three fields as plain integers within their
// bounds (other keys with plain string or integer values are ignored, as
// DecodeOrderRequest ignores them). Anything else, errors included, is
// ok=false, for DecodeOrderRequest's encoding/json path to decode or
// explain. FuzzDecodeRequestFast checks that both agree.
func decodeRequestFast(b []byte) (req OrderRequest, ok bool) {
	var seen [3]bool
	ok = scanFlat(b, func(key, _ []byte, str bool, n int64) bool {
		var i int
		switch string(key) {
		case "product_id":
			i, req.ProductID = 0, int(n)
		case "quantity":
			i, req.Quantity = 1, int(n)
		case "user_id":
			i, req.UserID = 2, int(n)
		default:
			return true
		}
		seen[i] = true
		return !str && n >= requestMins[i] && n <= 1<<31-1
	})
	if !ok || !seen[0] || !seen[1] || !seen[2] {
		return OrderRequest{}, false
	}
	return req, true
}

// requestMins are the least values of product_id, quantity and user_id
// (as DecodeOrderRequest checks them).
var requestMins = [3]int64{1, 1, 0}

// scanFlat walks one flat JSON object whose values are plain strings (see
// plainString) and integers of at most 18 digits, calling field with each
// key, the value's raw bytes (a string's with its quotes), whether it is a
// string and, if not, its value. It returns false for anything else, or
// when field does.
func scanFlat(b []byte, field func(key, raw []byte, str bool, n int64) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return len(b) == skipSpace(b, i+1)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		if b[i] == '"' {
			_, j, ok := plainString(b, i)
			if !ok || !field(key, b[i:j], true, 0) {
				return false
			}
			i = j
		} else {
			j := i
			if j < len(b) && b[j] == '-' {
				j++
			}
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j == i || (j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E')) || j-i > 18 {
				return false
			}
			n, err := strconv.ParseInt(string(b[i:j]), 10, 64)
			if err != nil || (b[i] == '0' && j-i > 1) || (b[i] == '-' && (j-i == 1 || b[i+1] == '0' && j-i > 2)) {
				return false
			}
			if !field(key, b[i:j], false, n) {
				return false
			}
			i = j
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

var orderKeys = []string{"order_id", "product_id", "quantity", "user_id", "amount_cents", "created_at", "reason", "draw_key"}

// otherKey reports whether key is safely ignored: encoding/json matches
// field names case-insensitively, so a key that folds to one of ours
// (and is not exactly it) must go the slow way.
func otherKey(key []byte) bool {
	for _, k := range orderKeys {
		if strings.EqualFold(string(key), k) {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string starting at b[i] == '"' that has no
// escapes and no control or non-ASCII bytes (which encoding/json would
// validate or replace). It returns the contents and the index after the
// closing quote.
func plainString(b []byte, i int) (val []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, 0, false
	}
	val = b[i+1 : i+1+end]
	for _, c := range val {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, 0, false
		}
	}
	return val, i + 2 + end, true
}
