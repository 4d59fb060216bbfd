package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/streamlog"
)

// eventFlags are the event-log flags shared by the main command, trace,
// runs and replay.
type eventFlags struct {
	events    string
	streamURL string
	maxAge    time.Duration
	maxBytes  int64
}

// streamURLFor derives the stream protocol URL from the AMQP one: same
// user, password, host and vhost, port 5552 (5551 over TLS for amqps);
// for a list, one per distinct host.
func streamURLFor(amqpURL string) string {
	var out []string
	for _, a := range broker.SplitURLs(amqpURL) {
		if s := streamURLFor1(a); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return streamlog.DefaultURL
	}
	return strings.Join(out, ",")
}

func streamURLFor1(amqpURL string) string {
	u, err := url.Parse(amqpURL)
	if err != nil || u.Host == "" {
		return streamlog.DefaultURL
	}
	host := u.Hostname()
	scheme := "rabbitmq-stream"
	if u.Scheme == "amqps" {
		scheme = "rabbitmq-stream+tls"
	}
	port := "5552"
	if u.Scheme == "amqps" {
		port = "5551" // RabbitMQ's stream TLS port
	}
	out := url.URL{Scheme: scheme, User: u.User, Host: net.JoinHostPort(host, port), Path: u.Path}
	if out.Path == "" {
		out.Path = "/"
	}
	return out.String()
}

func (o runOptions) streamConfig(names engine.Names, log *slog.Logger) streamlog.Config {
	u := o.ev.streamURL
	if u == "" {
		u = streamURLFor(o.amqpURL)
	}
	return streamlog.Config{
		URL: u, Stream: names.Of(streamlog.DefaultStream), RunStream: names.Of(streamlog.DefaultRunStream),
		MaxAge: o.ev.maxAge, MaxBytes: o.ev.maxBytes,
		Name: "oms-sim/" + o.process, Logger: log, TLS: o.tlsConf,
	}
}

// openEvents picks and opens the event log as DESIGN.md §5 says: on
// RabbitMQ the stream when its port answers (else memory, with a
// warning); on the embedded broker, memory. It returns nil for the
// engine's own in-memory log.
func openEvents(ctx context.Context, o runOptions, brokerKind string, names engine.Names, log *slog.Logger) (engine.EventLog, string, string, error) {
	mode := o.ev.events
	switch mode {
	case "auto":
		if brokerKind == "embedded" {
			return nil, engine.EventsMemory, "", nil
		}
		cfg := o.streamConfig(names, log)
		if err := streamlog.PingTLS(ctx, cfg.URL, cfg.TLS); err != nil {
			note := fmt.Sprintf("event log in memory: no stream protocol at %s (%v); traces cover this process only — enable it with: rabbitmq-plugins enable rabbitmq_stream", amqpbroker.Redact(cfg.URL), err)
			log.Warn(note)
			return nil, engine.EventsMemory, note, nil
		}
		mode = engine.EventsStream
	case engine.EventsMemory, engine.EventsOff:
		return nil, mode, "", nil
	case engine.EventsStream:
		if brokerKind == "embedded" {
			return nil, "", "", exitWith(exitUsage, fmt.Errorf("--events stream needs RabbitMQ, not the embedded broker"))
		}
	default:
		return nil, "", "", exitWith(exitUsage, fmt.Errorf("--events %q: valid are auto, stream, memory, off", mode))
	}
	cfg := o.streamConfig(names, log)
	l, err := streamlog.Open(ctx, cfg)
	if err != nil {
		if o.ev.events == "auto" && ctx.Err() == nil {
			// The port answered but the stream could not be set up in
			// time (a node down, a leader not elected, advertised
			// addresses that do not lead here): run, but say so.
			note := fmt.Sprintf("EVENT LOG IN MEMORY: the stream at %s could not be set up (%v); traces cover this process only (--events stream makes this an error)", amqpbroker.Redact(cfg.URL), err)
			log.Warn(note)
			return nil, engine.EventsMemory, note, nil
		}
		return nil, "", "", exitWith(exitUnreachable, fmt.Errorf("event stream: %w", err))
	}
	return statsLog{l}, engine.EventsStream, "", nil
}

// statsLog lets the engine report the stream log's counts.
type statsLog struct{ *streamlog.Log }

func (s statsLog) LogStats() engine.EventLogStats {
	st := s.Stats()
	return engine.EventLogStats{Kind: engine.EventsStream, Appended: st.Appended, Delivered: st.Delivered,
		Dropped: st.Dropped, Pending: st.Pending, Reconnects: st.Reconnects, Connected: st.Connected}
}
