package engine

import (
	"bytes"
	"strconv"
	"strings"
)

// decodeOrderFast decodes the common case of an order body — one flat
// JSON object whose values are plain strings and integers, as every stage
// publishes — without reflection. It reports ok=false for anything else
// (escapes, floats, null, nesting, near-miss key spellings, malformed
// input), and the caller falls back to encoding/json, so the result is
// always what encoding/json would give. FuzzDecodeOrderFast checks that.
func decodeOrderFast(b []byte) (o Order, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Order{}, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return o, len(b) == skipSpace(b, i+1)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return Order{}, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return Order{}, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return Order{}, false
		}
		if b[i] == '"' {
			val, j, ok := plainString(b, i)
			if !ok {
				return Order{}, false
			}
			switch string(key) {
			case "order_id":
				o.OrderID = string(val)
			case "reason":
				o.Reason = string(val)
			case "draw_key":
				o.DrawKey = string(val)
			case "created_at":
				if o.CreatedAt.UnmarshalJSON(b[i:j]) != nil {
					return Order{}, false
				}
			default:
				if !otherKey(key) {
					return Order{}, false
				}
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
				return Order{}, false
			}
			n, err := strconv.ParseInt(string(b[i:j]), 10, 64)
			if err != nil || (b[i] == '0' && j-i > 1) || (b[i] == '-' && (j-i == 1 || b[i+1] == '0' && j-i > 2)) {
				return Order{}, false
			}
			switch string(key) {
			case "product_id":
				o.ProductID = int(n)
			case "quantity":
				o.Quantity = int(n)
			case "user_id":
				o.UserID = int(n)
			case "amount_cents":
				o.AmountCents = n
			default:
				if !otherKey(key) {
					return Order{}, false
				}
			}
			i = j
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return Order{}, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return o, skipSpace(b, i+1) == len(b)
		default:
			return Order{}, false
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
