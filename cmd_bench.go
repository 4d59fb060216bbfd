package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/streamlog"
	"oms-sim/loadgen/queuebench"
)

func newBenchCmd() *cobra.Command {
	var (
		cfg       queuebench.Config
		types     string
		report    string
		amqpURL   string
		streamURL string
		tlsOpts   broker.TLSOptions
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the broker by queue type: publish and consume rates and latency, side by side",
		Long: `bench publishes persistent messages with publisher confirms (a bounded number
outstanding) to a fresh queue of each type while a consumer reads them, one type
after the other, and prints publish/s, consume/s and publish → consume latency.
Classic and quorum queues are measured over AMQP 0-9-1 with manual acks, streams
over the stream protocol. The queues are deleted afterwards.`,
		Example: "  oms-sim bench --queue-types classic,quorum,stream --duration 20s --report bench.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, t := range strings.Split(types, ",") {
				if t = strings.TrimSpace(t); t != "" {
					cfg.Types = append(cfg.Types, t)
				}
			}
			cfg.AMQPURL, cfg.StreamURL = amqpURL, streamURL
			if cfg.StreamURL == "" {
				cfg.StreamURL = streamURLFor(amqpURL)
			}
			errs := []error{cfg.Validate(), checkAMQP(amqpURL)}
			if streamURL != "" {
				errs = append(errs, checkStream(streamURL))
			}
			if err := errors.Join(errs...); err != nil {
				return exitWith(exitUsage, err)
			}
			tlsConf, err := tlsSetup(tlsOpts, cfg.AMQPURL, cfg.StreamURL)
			if err != nil {
				return err
			}
			cfg.TLS = tlsConf
			if report != "" {
				switch filepath.Ext(report) {
				case ".json", ".md", ".txt":
				default:
					return exitWith(exitUsage, fmt.Errorf("--report %s: use .json, .md or .txt", report))
				}
			}
			if err := benchReachable(cmd.Context(), cfg); err != nil {
				return err
			}
			results, err := queuebench.Run(cmd.Context(), cfg)
			if err != nil {
				return exitWith(exitFailed, err)
			}
			printBench(cmd.OutOrStdout(), cfg, results, false)
			var verdict error
			for _, r := range results {
				if r.Err != "" {
					verdict = exitWith(exitFailed, fmt.Errorf("%s: %s", r.Type, r.Err))
					break
				}
			}
			if report != "" {
				if err := writeBench(report, cfg, results); err != nil {
					return reportFailed(report, err, verdict)
				}
			}
			return verdict
		},
	}
	f := cmd.Flags()
	f.StringVar(&types, "queue-types", "classic,quorum,stream", "queue types to measure, comma-separated")
	f.StringVar(&amqpURL, "amqp", defaultAMQPURL(), "RabbitMQ URL, or a comma-separated list of the nodes of a cluster (env OMS_AMQP_URL)")
	redactDefault(cmd, "amqp")
	f.StringVar(&streamURL, "stream-url", "", "stream protocol URL, or a comma-separated list of a cluster's nodes (default: the --amqp hosts and credentials, port 5552)")
	f.DurationVar(&cfg.Duration, "duration", 20*time.Second, "measured time per queue type")
	f.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "unmeasured time before it")
	f.IntVar(&cfg.Size, "size", queuebench.DefaultSize, "message body bytes")
	f.IntVar(&cfg.InFlight, "in-flight", queuebench.DefaultInFlight, "unconfirmed publishes at most")
	f.IntVar(&cfg.Prefetch, "prefetch", queuebench.DefaultPrefetch, "consumer prefetch")
	f.StringVar(&report, "report", "", "also write the table to FILE (.json, .md or .txt)")
	registerTLS(cmd, &tlsOpts)
	return cmd
}

// benchReachable checks that the broker answers on each protocol bench
// will use: an unreachable broker is exit 3, not a failed measurement.
func benchReachable(ctx context.Context, cfg queuebench.Config) error {
	if err := amqpbroker.Ping(ctx, cfg.AMQPURL, amqpbroker.WithTLS(cfg.TLS)); err != nil {
		return exitWith(exitUnreachable, fmt.Errorf("RabbitMQ: %w", err))
	}
	if slices.Contains(cfg.Types, queuebench.Stream) {
		if err := streamlog.PingTLS(ctx, cfg.StreamURL, cfg.TLS); err != nil {
			return exitWith(exitUnreachable, fmt.Errorf("stream protocol: %w (rabbitmq-plugins enable rabbitmq_stream)", err))
		}
	}
	return nil
}

func printBench(w io.Writer, cfg queuebench.Config, results []queuebench.Result, md bool) {
	if md {
		fmt.Fprintf(w, "| type | publish/s | consume/s | p50 | p99 | max |\n|---|---|---|---|---|---|\n")
		for _, r := range results {
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %.1f ms | %.1f ms | %.1f ms |\n", r.Type, r.PublishRate, r.ConsumeRate, r.P50, r.P99, r.Max)
		}
		return
	}
	fmt.Fprintf(w, "%d-byte persistent messages, %d confirms in flight, prefetch %d, %v measured after %v\n",
		cfg.Size, cfg.InFlight, cfg.Prefetch, cfg.Duration, cfg.Warmup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TYPE\tPUBLISH/s\tCONSUME/s\tLAT p50\tp99\tmax\t")
	for _, r := range results {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\terror: %s\t\t\t\t\t\n", r.Type, r.Err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.1fms\t%.1fms\t%.1fms\t\n", r.Type, r.PublishRate, r.ConsumeRate, r.P50, r.P99, r.Max)
	}
	tw.Flush()
}

func writeBench(path string, cfg queuebench.Config, results []queuebench.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".json":
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		cfg.AMQPURL, cfg.StreamURL = amqpbroker.Redact(cfg.AMQPURL), amqpbroker.Redact(cfg.StreamURL)
		return enc.Encode(map[string]any{"config": cfg, "results": results})
	case ".md":
		printBench(f, cfg, results, true)
	default:
		printBench(f, cfg, results, false)
	}
	return nil
}
