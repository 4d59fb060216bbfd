package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
)

// checkURLs checks every URL the user gave before anything is dialled. A
// bad one is a usage error (exit 2) whose message names the flag and the
// URL without its password.
func (o runOptions) checkURLs() error {
	var errs []error
	if o.brokerMode != "embedded" {
		errs = append(errs, checkAMQP(o.amqpURL))
		if o.ev.streamURL != "" {
			errs = append(errs, checkStream(o.ev.streamURL))
		}
	}
	if o.mgmtURL != "" && o.mgmtURL != "off" {
		_, err := broker.CheckURL("--management-url", o.mgmtURL, "http", "https")
		errs = append(errs, err)
	}
	if o.target != "" {
		_, err := broker.CheckURL("--target", o.target, "http", "https")
		errs = append(errs, err)
	}
	errs = append(errs, o.checkState())
	if err := errors.Join(errs...); err != nil {
		return exitWith(exitUsage, err)
	}
	return nil
}

// checkAMQP checks --amqp (or OMS_AMQP_URL, when the flag kept its
// default).
func checkAMQP(raw string) error {
	name := "--amqp"
	if raw == os.Getenv("OMS_AMQP_URL") {
		name = "--amqp (OMS_AMQP_URL)"
	}
	return eachURL(raw, func(u string) error { return amqpbroker.CheckURL(name, u) })
}

func checkStream(raw string) error {
	return eachURL(raw, func(u string) error {
		_, err := broker.CheckURL("--stream-url", u, "rabbitmq-stream", "rabbitmq-stream+tls")
		return err
	})
}

// eachURL checks every URL of a comma-separated list of a cluster's nodes
// (a single URL is a list of one).
func eachURL(raw string, check func(string) error) error {
	var errs []error
	for _, u := range strings.Split(raw, ",") {
		errs = append(errs, check(strings.TrimSpace(u)))
	}
	return errors.Join(errs...)
}

// checkReadURLs checks the URLs of the commands that read the event
// stream (trace, runs, replay).
func (r readOptions) checkURLs() error {
	errs := []error{checkAMQP(r.amqpURL)}
	if r.streamURL != "" {
		errs = append(errs, checkStream(r.streamURL))
	}
	if err := errors.Join(errs...); err != nil {
		return exitWith(exitUsage, err)
	}
	return nil
}

// reportFailed is what a command returns when its report file could not
// be written after it printed its result: the run's own verdict when it
// failed (exit 1), else a usage error (exit 2) that says the run passed.
func reportFailed(path string, writeErr, verdict error) error {
	fmt.Fprintf(os.Stderr, "oms-sim: --report %s could not be written: %v\n", path, writeErr)
	if verdict != nil {
		return verdict
	}
	return exitWith(exitUsage, fmt.Errorf("the run passed (result above), but --report %s could not be written: %w", path, writeErr))
}

// redactDefault keeps a flag's default (e.g. --amqp's, from OMS_AMQP_URL)
// from showing its password in --help.
func redactDefault(cmd *cobra.Command, name string) {
	if f := cmd.Flags().Lookup(name); f != nil {
		f.DefValue = broker.Redact(f.DefValue)
	}
}
