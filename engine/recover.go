package engine

import (
	"context"
	"fmt"
	"runtime/debug"
)

// recoverPanic keeps a panicking handler from taking the process down
// (DESIGN.md: a worker never crashes the process). The panic becomes a
// permanent error, so the message is dead-lettered with the panic as its
// reason (x-dead-reason "panic: …") and the order counts as dead-lettered
// in the audit; the stack goes to the log. It sits inside dedupe, so the
// message's claim is released like any failure's.
func (s *stage) recoverPanic(next handleFunc) handleFunc {
	return func(ctx context.Context, in *inbound) (out outcome, err error) {
		defer func() {
			if r := recover(); r != nil {
				s.deps.log.Error("handler panicked", "stage", s.name, "key", in.key, "worker", in.worker, "panic", r, "stack", string(debug.Stack()))
				out, err = outcome{}, permanent{fmt.Errorf("panic: %v", r)}
			}
		}()
		return next(ctx, in)
	}
}
