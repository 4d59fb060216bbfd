package engine

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// The append encoders below write exactly what encoding/json writes for
// an Order and an Event (FuzzAppendEventJSON holds them to that), without
// reflection: every stage re-encodes each order it passes on, and every
// lifecycle event is encoded for the stream, so json.Marshal was a tenth of
// a busy process's CPU.

// AppendJSON appends o as encoding/json would marshal it.
func (o *Order) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"order_id":`...)
	dst = AppendJSONString(dst, o.OrderID)
	dst = append(dst, `,"product_id":`...)
	dst = strconv.AppendInt(dst, int64(o.ProductID), 10)
	dst = append(dst, `,"quantity":`...)
	dst = strconv.AppendInt(dst, int64(o.Quantity), 10)
	dst = append(dst, `,"user_id":`...)
	dst = strconv.AppendInt(dst, int64(o.UserID), 10)
	if o.AmountCents != 0 {
		dst = append(dst, `,"amount_cents":`...)
		dst = strconv.AppendInt(dst, o.AmountCents, 10)
	}
	dst = append(dst, `,"created_at":`...)
	dst = AppendJSONTime(dst, o.CreatedAt)
	if o.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = AppendJSONString(dst, o.Reason)
	}
	if o.DrawKey != "" {
		dst = append(dst, `,"draw_key":`...)
		dst = AppendJSONString(dst, o.DrawKey)
	}
	return append(dst, '}')
}

// padOverhead is what an empty pad field adds: `,"pad":""`.
const padOverhead = len(`,"pad":""`)

// AppendJSONPadded appends o as AppendJSON does, padded to exactly size
// bytes as padJSON describes.
func (o *Order) AppendJSONPadded(dst []byte, size int) []byte {
	start := len(dst)
	return padJSON(o.AppendJSON(dst), start, size)
}

// padJSON pads the JSON object dst[start:] so that it is exactly size
// bytes: a "pad" field of 'x's goes before the closing brace, or, when the
// gap is too small for the field, spaces (valid JSON whitespace). Every
// decoder ignores both. When size is smaller than the object nothing is
// added: a body is never cut.
func padJSON(dst []byte, start, size int) []byte {
	gap := size - (len(dst) - start)
	if gap <= 0 || len(dst) == start || dst[len(dst)-1] != '}' {
		return dst
	}
	dst = dst[:len(dst)-1] // the closing brace, put back below
	if gap >= padOverhead {
		dst = append(dst, `,"pad":"`...)
		dst = appendRepeat(dst, 'x', gap-padOverhead)
		dst = append(dst, '"')
	} else {
		dst = appendRepeat(dst, ' ', gap)
	}
	return append(dst, '}')
}

// unpadJSON returns a copy of body without the padding padJSON added
// (body itself when there is none). Our encoder escapes quotes inside
// strings, so the last `,"pad":"` of its output is the pad field.
func unpadJSON(body []byte) []byte {
	n := len(body)
	if n < 2 || body[n-1] != '}' {
		return body
	}
	inner := body[:n-1]
	if bytes.HasSuffix(inner, []byte(`"`)) {
		// Searched from the front: the pad follows the order's own few
		// fields, and ,"pad":" cannot occur inside a JSON string (its
		// quotes would be escaped), so this reads ~150 bytes, not the pad.
		if i := bytes.Index(inner, []byte(`,"pad":"`)); i >= 0 && i+len(`,"pad":"`) <= len(inner)-1 {
			inner = inner[:i]
		}
	}
	inner = bytes.TrimRight(inner, " ")
	if len(inner) == n-1 {
		return body
	}
	return append(slices.Clip(inner), '}')
}

// appendRepeat appends n copies of c.
func appendRepeat(dst []byte, c byte, n int) []byte {
	dst = slices.Grow(dst, n)
	for range n {
		dst = append(dst, c)
	}
	return dst
}

// AppendJSON appends ev as encoding/json would marshal it.
func (ev *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if ev.RunID != "" {
		dst = append(dst, `"run_id":`...)
		dst = AppendJSONString(dst, ev.RunID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"order_id":`...)
	dst = AppendJSONString(dst, ev.OrderID)
	dst = append(dst, `,"event":`...)
	dst = AppendJSONString(dst, ev.Type)
	for _, f := range [...]struct{ key, val string }{
		{`,"stage":`, ev.Stage}, {`,"worker":`, ev.Worker}, {`,"process":`, ev.Process},
	} {
		if f.val != "" {
			dst = append(dst, f.key...)
			dst = AppendJSONString(dst, f.val)
		}
	}
	dst = append(dst, `,"time":`...)
	dst = AppendJSONTime(dst, ev.Time)
	if ev.Detail != "" {
		dst = append(dst, `,"detail":`...)
		dst = AppendJSONString(dst, ev.Detail)
	}
	if ev.WaitUS != 0 {
		dst = append(dst, `,"queue_wait_us":`...)
		dst = strconv.AppendInt(dst, ev.WaitUS, 10)
	}
	if ev.ServiceUS != 0 {
		dst = append(dst, `,"service_us":`...)
		dst = strconv.AppendInt(dst, ev.ServiceUS, 10)
	}
	if ev.Redone {
		dst = append(dst, `,"redone":true`...)
	}
	if ev.Order != nil {
		dst = append(dst, `,"order":`...)
		dst = ev.Order.AppendJSON(dst)
	}
	return append(dst, '}')
}

// AppendJSONString appends s quoted as encoding/json quotes it. Plain
// ASCII (the ids, names and details the engine writes) is copied;
// anything encoding/json would escape or replace goes through it.
func AppendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// AppendJSONTime appends t as time.Time's MarshalJSON does. A year outside
// 0–9999 (which MarshalJSON refuses) is written as its RFC 3339 text all
// the same: an encoder of events must not fail.
func AppendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
