package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"oms-sim/loadgen"
	"oms-sim/loadgen/compare"
)

func newCompareCmd() *cobra.Command {
	var (
		tolerance string
		floor     time.Duration
		reports   []string
	)
	cmd := &cobra.Command{
		Use:   "compare A.json B.json [--tolerance 10%] [--report diff.md|.html]",
		Short: "Set run B's report against run A's, metric by metric; exit 1 when B regressed (for CI)",
		Long: `Compare reads two run reports (written with --report FILE.json, or .html: the
page carries its data) and sets B against A metric by metric: each phase's
achieved rate (phases matched by name), end-to-end latency, each stage's queue
wait and service time, the load's drops and sheds, and the audit — with the
delta and percentage of each, regressions and improvements marked.

Gated metrics fail the comparison when B is worse than A by more than the
tolerance: a phase's achieved rate (lower), e2e p50 and p99 and each stage's
queue-wait p99 (higher, and by more than --latency-floor), and any rise in
lost or duplicated orders whatever the tolerance. The others are shown for
reading only.

Exit codes: 0 no gated regression · 1 B regressed · 2 usage error or a file
that is not a run report (malformed JSON, unknown version).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tol, err := compare.ParseTolerance(tolerance)
			if err != nil {
				return exitWith(exitUsage, err)
			}
			if floor < 0 {
				return exitWith(exitUsage, fmt.Errorf("--latency-floor %v: must be 0 or more", floor))
			}
			if err := loadgen.CheckReportPaths(reports, true); err != nil {
				return exitWith(exitUsage, err)
			}
			var sides [2]compare.Side
			var errs []error
			for i, path := range args {
				rep, err := compare.Load(path)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				sides[i] = compare.Side{Path: path, Report: rep}
			}
			if err := errors.Join(errs...); err != nil {
				return exitWith(exitUsage, err)
			}
			d := compare.Compare(sides[0], sides[1], compare.Options{Tolerance: tol, LatencyFloor: floor})
			fmt.Fprint(cmd.OutOrStdout(), d.Text())
			for _, path := range reports {
				if err := d.WriteFile(path); err != nil {
					return exitWith(exitUsage, err)
				}
				fmt.Fprintf(os.Stderr, "oms-sim: comparison written to %s\n", path)
			}
			if !d.Passed {
				return exitWith(exitFailed, errors.New(d.Verdict()))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&tolerance, "tolerance", "10%", "how much worse B may be than A on a gated metric before it fails")
	f.DurationVar(&floor, "latency-floor", compare.DefaultLatencyFloor, "a latency regresses only when it also rose by more than this (timer noise)")
	f.StringArrayVar(&reports, "report", nil, "also write the comparison to FILE (.md, .html, .txt or .json); repeatable, one file per format")
	return cmd
}
