package engine

import (
	"encoding/json"
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
	dst = appendJSONString(dst, o.OrderID)
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
	dst = appendJSONTime(dst, o.CreatedAt)
	if o.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = appendJSONString(dst, o.Reason)
	}
	return append(dst, '}')
}

// AppendJSON appends ev as encoding/json would marshal it.
func (ev *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if ev.RunID != "" {
		dst = append(dst, `"run_id":`...)
		dst = appendJSONString(dst, ev.RunID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"order_id":`...)
	dst = appendJSONString(dst, ev.OrderID)
	dst = append(dst, `,"event":`...)
	dst = appendJSONString(dst, ev.Type)
	for _, f := range [...]struct{ key, val string }{
		{`,"stage":`, ev.Stage}, {`,"worker":`, ev.Worker}, {`,"process":`, ev.Process},
	} {
		if f.val != "" {
			dst = append(dst, f.key...)
			dst = appendJSONString(dst, f.val)
		}
	}
	dst = append(dst, `,"time":`...)
	dst = appendJSONTime(dst, ev.Time)
	if ev.Detail != "" {
		dst = append(dst, `,"detail":`...)
		dst = appendJSONString(dst, ev.Detail)
	}
	if ev.WaitUS != 0 {
		dst = append(dst, `,"queue_wait_us":`...)
		dst = strconv.AppendInt(dst, ev.WaitUS, 10)
	}
	if ev.ServiceUS != 0 {
		dst = append(dst, `,"service_us":`...)
		dst = strconv.AppendInt(dst, ev.ServiceUS, 10)
	}
	if ev.Order != nil {
		dst = append(dst, `,"order":`...)
		dst = ev.Order.AppendJSON(dst)
	}
	return append(dst, '}')
}

// appendJSONString quotes s. Plain ASCII (the ids, names and details the
// engine writes) is copied; anything encoding/json would escape or
// replace goes through it.
func appendJSONString(dst []byte, s string) []byte {
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

// appendJSONTime writes t as time.Time's MarshalJSON does. A year outside
// 0–9999 (which MarshalJSON refuses) is written as its RFC 3339 text all
// the same: an encoder of events must not fail.
func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
