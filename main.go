// Command oms-sim runs an event-driven order pipeline on RabbitMQ (or an
// embedded broker) and lets you watch, load and measure it. This file only
// parses the command line and wires the packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes (DESIGN.md §8).
const (
	exitOK          = 0
	exitFailed      = 1 // thresholds failed, orders lost or a scenario action refused
	exitUsage       = 2 // usage or configuration error
	exitUnreachable = 3 // broker unreachable
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

func main() {
	tuneGC()
	root := newRootCmd()
	err := root.ExecuteContext(context.Background())
	if err == nil {
		os.Exit(exitOK)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "oms-sim:", ee.err)
		}
		os.Exit(ee.code)
	}
	// Cobra's own errors: unknown flag, bad argument count.
	fmt.Fprintln(os.Stderr, "oms-sim:", err)
	fmt.Fprintln(os.Stderr, "Run 'oms-sim --help' for usage.")
	os.Exit(exitUsage)
}

func newRootCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "oms-sim",
		Short: "Simulate, watch and load-test an event-driven order pipeline on RabbitMQ",
		Long: `oms-sim runs a real order pipeline — the HTTP order API (POST /api/orders) and the
payment → inventory → email consumers as goroutine pools — on RabbitMQ, or on an
embedded in-process broker when none answers.

  oms-sim                              dashboard + API on localhost:5000, no load until started
  oms-sim --headless                   the same with a status line instead of a dashboard
  oms-sim --scenario burst             run a shipped scenario (or a YAML file) with the dashboard
  oms-sim --scenario burst --headless --report out.json --report out.html
                                       progress lines, the final report, exit 1 if it failed
                                       (--report repeats: .json, .md, .txt, .html with charts)
  oms-sim validate FILE...             check scenario files (exit 2 on errors)
  oms-sim scenarios                    list the shipped scenarios
  oms-sim trace ORDER_ID               an order's timeline from the event stream
  oms-sim runs                         recorded runs; oms-sim replay --run ID [--speed 2x]
  oms-sim bench --queue-types classic,quorum,stream
                                       broker throughput and latency by queue type
  oms-sim capacity --slo 'e2e_p99<500ms'
                                       the highest rate sustained under the SLO (the knee)
  oms-sim compare A.json B.json [--tolerance 10%] [--report diff.html]
                                       run B against run A metric by metric; exit 1 when B regressed
  oms-sim --role payment               run only some parts; processes on one broker form one pipeline
  oms-sim --role none                  watch a pipeline that runs elsewhere (queues and events)
  oms-sim --amqp URL1,URL2,URL3 --stream-url SURL1,SURL2,SURL3
                                       a cluster: sessions spread over the nodes and fail over to any other

The API listens on localhost only unless --http says otherwise; beyond loopback,
PATCH /api/stages and POST /api/inventory/restock need --admin-token (sent as
Authorization: Bearer TOKEN), or --insecure-admin. TLS to RabbitMQ: an amqps://
--amqp with --tls-ca, --tls-cert/--tls-key, --tls-server-name.

Exit codes: 0 ok · 1 thresholds failed, orders lost or a scenario action
refused (or not stopped within --drain-timeout + 10 s of a signal, or a
second signal: exit at once, saying how many orders stay in the broker for
the next start) · 2 usage or config error (a malformed URL included) · 3
broker unreachable (or refused our credentials or TLS, or
--events stream that cannot be set up), or the --state database unreachable
(or refused us).

--state postgres://user:password@host:port/db (env OMS_STATE_URL) keeps charges,
refunds, stock, the inbox of handled messages and the Idempotency-Keys in PostgreSQL,
shared by every process of a pipeline and kept across restarts: a message redelivered
to any process is answered from the inbox, never charged twice (scripts/postgres.sh up).

Go's garbage collector runs at GOGC=400 here (Go's default is 100) unless GOGC is
set: fewer collections, fewer late sends, a larger heap; GOMEMLIMIT caps it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.amqpSet = cmd.Flags().Changed("amqp")
			o.changed = cmd.Flags().Changed
			return run(cmd.Context(), o)
		},
	}
	o.register(cmd)
	cmd.AddCommand(newScenariosCmd(), newValidateCmd(), newTraceCmd(), newRunsCmd(), newReplayCmd(), newBenchCmd(), newCapacityCmd(), newCompareCmd())
	return cmd
}
