package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Order is the message body every stage passes on: the seed demo's fields
// (product_id, quantity, user_id) plus ours. Consumers written for the seed
// read the first three unchanged.
type Order struct {
	OrderID     string    `json:"order_id"`
	ProductID   int       `json:"product_id"`
	Quantity    int       `json:"quantity"`
	UserID      int       `json:"user_id"`
	AmountCents int64     `json:"amount_cents,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// Reason explains a failure event (declined, out of stock).
	Reason string `json:"reason,omitempty"`
	// DrawKey, when set, replaces the order id in the order's random
	// draws (service times, errors, decline): a load generator names the
	// arrival (seed/sequence), so separate runs draw alike (drawkey.go).
	DrawKey string `json:"draw_key,omitempty"`
}

// Status is an order's place in its lifecycle.
type Status string

// Order statuses. Confirmed, PaymentFailed, Refunded and DeadLettered are
// terminal: every accepted order reaches exactly one of them.
const (
	StatusPending       Status = "pending"
	StatusPaid          Status = "paid"
	StatusReserved      Status = "reserved"
	StatusConfirmed     Status = "confirmed"
	StatusPaymentFailed Status = "payment_failed"
	StatusRefunded      Status = "refunded"
	StatusDeadLettered  Status = "dead_lettered"
)

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool {
	switch s {
	case StatusConfirmed, StatusPaymentFailed, StatusRefunded, StatusDeadLettered:
		return true
	}
	return false
}

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusPending, StatusPaid, StatusReserved, StatusConfirmed,
	StatusPaymentFailed, StatusRefunded, StatusDeadLettered}

// MaxBodyBytes bounds an order request to the API (DESIGN.md §9).
const MaxBodyBytes = 64 << 10

// FieldError is a problem with one field of an order, reported to API
// clients as {"error": Msg, "field": Field}.
type FieldError struct {
	Field string
	Msg   string
}

// Error returns the message; it already names the field.
func (e *FieldError) Error() string {
	return e.Msg
}

// OrderRequest is what a client POSTs to /api/orders: the seed's three
// fields. Unknown fields are ignored, as the seed's Flask API did.
type OrderRequest struct {
	ProductID int
	Quantity  int
	UserID    int
	// DrawKey is the Oms-Draw-Key header's value ("" without one); it is
	// not read from the body.
	DrawKey string
}

// DecodeOrderRequest parses and validates a request body. knownProduct
// reports whether a product id exists in the catalog.
func DecodeOrderRequest(body []byte, knownProduct func(int) bool) (OrderRequest, error) {
	req, ok := decodeRequestFast(body)
	if !ok {
		var err error
		if req, err = decodeRequestJSON(body); err != nil {
			return OrderRequest{}, err
		}
	}
	if knownProduct != nil && !knownProduct(req.ProductID) {
		return OrderRequest{}, &FieldError{Field: "product_id", Msg: fmt.Sprintf("unknown product %d", req.ProductID)}
	}
	return req, nil
}

// decodeRequestJSON is DecodeOrderRequest with encoding/json: every body
// decodeRequestFast does not take, and every error's explanation.
func decodeRequestJSON(body []byte) (OrderRequest, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return OrderRequest{}, &FieldError{Msg: "malformed JSON: " + jsonProblem(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return OrderRequest{}, &FieldError{Msg: "malformed JSON: trailing data after the object"}
	}
	if raw == nil {
		return OrderRequest{}, &FieldError{Msg: "body must be a JSON object"}
	}
	var req OrderRequest
	var err error
	if req.ProductID, err = intField(raw, "product_id", 1); err != nil {
		return OrderRequest{}, err
	}
	if req.Quantity, err = intField(raw, "quantity", 1); err != nil {
		return OrderRequest{}, err
	}
	if req.UserID, err = intField(raw, "user_id", 0); err != nil {
		return OrderRequest{}, err
	}
	return req, nil
}

// intField reads a required integer field that must be at least min.
func intField(raw map[string]json.RawMessage, name string, min int64) (int, error) {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		return 0, &FieldError{Field: name, Msg: name + " is required"}
	}
	var n json.Number
	if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '"' {
		return 0, &FieldError{Field: name, Msg: name + " must be an integer, got a string"}
	}
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, &FieldError{Field: name, Msg: name + " must be an integer, got " + jsonKind(v)}
	}
	i, err := n.Int64()
	if err != nil {
		return 0, &FieldError{Field: name, Msg: name + " must be an integer, got " + n.String()}
	}
	if i < min {
		return 0, &FieldError{Field: name, Msg: fmt.Sprintf("%s must be at least %d, got %d", name, min, i)}
	}
	if i > 1<<31-1 {
		return 0, &FieldError{Field: name, Msg: fmt.Sprintf("%s must be at most %d, got %d", name, 1<<31-1, i)}
	}
	return int(i), nil
}

func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return string(v)
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	return err.Error()
}

// DecodeOrder parses a message body as an order. It is strict about what
// the stages need (a positive quantity and product id) and lenient about
// the rest, so messages from the seed demo's publisher still flow. Fields
// it does not know, such as the "pad" of Config.BodyBytes, are ignored.
func DecodeOrder(body []byte) (Order, error) {
	if len(body) > MaxMessageBytes {
		return Order{}, fmt.Errorf("body of %d bytes exceeds %d", len(body), MaxMessageBytes)
	}
	o, ok := DecodeOrderFast(body)
	if !ok {
		o = Order{}
		if err := json.Unmarshal(body, &o); err != nil {
			return Order{}, fmt.Errorf("undecodable order: %w", err)
		}
	}
	if o.ProductID < 1 {
		return Order{}, fmt.Errorf("invalid order: product_id %d < 1", o.ProductID)
	}
	if o.Quantity < 1 {
		return Order{}, fmt.Errorf("invalid order: quantity %d < 1", o.Quantity)
	}
	return o, nil
}
