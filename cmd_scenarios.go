package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"oms-sim/scenarios"
)

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the shipped scenarios (usable as --scenario NAME from any directory)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tDURATION\tDESCRIPTION")
			for _, s := range scenarios.List() {
				fmt.Fprintf(w, "%s\t%v\t%s\n", s.Name, s.Duration, s.Description)
			}
			return w.Flush()
		},
	}
}

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files; every problem is reported with file:line:column (exit 2 on any)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, a := range args {
				if _, err := scenarios.Load(a); err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", a)
			}
			if bad > 0 {
				return exitWith(exitUsage, fmt.Errorf("%d of %d scenario files have errors", bad, len(args)))
			}
			return nil
		},
	}
}
