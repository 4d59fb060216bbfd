package amqpbroker

import (
	"errors"
	"fmt"
	"regexp"

	amqp "github.com/rabbitmq/amqp091-go"

	"oms-sim/engine/broker"
)

// ErrMismatch is matched by a declare error caused by an existing exchange or
// queue with different arguments (AMQP 406 PRECONDITION_FAILED).
var ErrMismatch = errors.New("topology mismatch")

// ErrNotFound is matched by an error caused by a missing queue or exchange
// (AMQP 404 NOT_FOUND).
var ErrNotFound = errors.New("not found")

// closedErr makes amqp091's "channel/connection is not open" match
// broker.ErrClosed while keeping the original in the chain.
func closedErr(err error) error {
	if errors.Is(err, amqp.ErrClosed) {
		return fmt.Errorf("%w (%w)", broker.ErrClosed, err)
	}
	return err
}

// notFoundErr makes a 404 NOT_FOUND exception match ErrNotFound.
func notFoundErr(err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code == amqp.NotFound {
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	return err
}

// MismatchError explains a PRECONDITION_FAILED on declare: what exists, how
// it differs from what was asked for, and what to do about it.
type MismatchError struct {
	Kind string // "queue" or "exchange"
	Name string
	Arg  string // the differing argument, e.g. "x-queue-type"; "" if unknown
	Have string // the existing value ("none" when unset)
	Want string // the declared value ("none" when unset)
	Err  error  // the *amqp.Error from the broker
}

func (e *MismatchError) Error() string {
	switch {
	case e.Arg == "x-queue-type":
		return fmt.Sprintf("it exists as %s, not %s; delete it or use --queue-type %s", e.Have, e.Want, e.Have)
	case e.Arg != "":
		return fmt.Sprintf("it exists with %s %s, not %s; delete it or declare it the same way", e.Arg, e.Have, e.Want)
	default:
		return fmt.Sprintf("it exists with different arguments; delete it or declare it the same way: %v", e.Err)
	}
}

// Unwrap lets the error match both ErrMismatch and the *amqp.Error.
func (e *MismatchError) Unwrap() []error { return []error{ErrMismatch, e.Err} }

// inequivalentRE parses RabbitMQ's 406 reason, e.g. (3.10)
//
//	PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q' in
//	vhost '/': received the value 'quorum' of type 'longstr' but current is
//	the value 'classic' of type 'longstr'
//
// and the shorter forms "received 'fanout' but current is 'topic'" and
// "received none but current is the value '100' of type 'long'".
var (
	inequivalentRE = regexp.MustCompile(`inequivalent arg '([^']+)' for \w+ '[^']*' in vhost '[^']*': received (.+) but current is (.+)$`)
	valueRE        = regexp.MustCompile(`^(?:the value )?'([^']*)'`)
)

// explainDeclare turns a PRECONDITION_FAILED on declaring kind name into a
// *MismatchError; other errors pass through closedErr.
func explainDeclare(kind, name string, err error) error {
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.PreconditionFailed {
		return closedErr(err)
	}
	me := &MismatchError{Kind: kind, Name: name, Err: err}
	if m := inequivalentRE.FindStringSubmatch(ae.Reason); m != nil {
		me.Arg, me.Want, me.Have = m[1], argValue(m[2]), argValue(m[3])
		if me.Arg == "x-queue-type" {
			// A queue declared without x-queue-type is classic.
			if me.Have == "none" {
				me.Have = broker.Classic
			}
			if me.Want == "none" {
				me.Want = broker.Classic
			}
		}
	}
	return me
}

// argValue extracts the value from "the value 'x' of type 't'", "'x'" or
// "none".
func argValue(s string) string {
	if m := valueRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// IsRefused reports whether err means a broker answered but refused us
// (bad credentials, unknown vhost, no access), as opposed to no broker
// answering at all. `--broker auto` must not fall back to the embedded
// broker on such an error: the user's broker exists and is misconfigured.
func IsRefused(err error) bool {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp.AccessRefused, amqp.NotAllowed:
			return true
		}
	}
	return false
}
