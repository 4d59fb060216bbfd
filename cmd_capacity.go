package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oms-sim/engine"
	"oms-sim/loadgen"
	"oms-sim/loadgen/capacity"
	"oms-sim/loadgen/scenario"
	"oms-sim/scenarios"
)

// capacityOptions are the capacity command's own flags; the engine and
// load flags are the main command's (runOptions).
type capacityOptions struct {
	slos      []string
	search    capacity.Search
	crit      capacity.Criteria
	probe     time.Duration
	warmup    time.Duration
	startRate string
	scenario  string
	report    string
}

func newCapacityCmd() *cobra.Command {
	var (
		o  runOptions
		co capacityOptions
	)
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Find the highest rate the pipeline sustains under an SLO (the knee)",
		Long: `capacity offers constant-rate probes and finds the highest rate the pipeline
sustains within the SLOs: it starts at --start-rate, multiplies the rate by
--factor while probes pass, then bisects between the last pass and the first
failure until they are within --precision, or --max-time runs out.

A probe is one constant-rate phase of --probe, run like a scenario (open
model, latency from the intended send time), drained and audited; an
unjudged --warmup at the start rate comes first. A probe passes when every
--slo holds, at least --min-ratio of the offered orders left during the
probe and of those at least --min-ratio were accepted, the generator kept
its schedule (not over 2% of sends late with a lateness p99 above 100ms), no
order was lost or duplicated, no stage's offered load ρ reached 1 over a
5-second window inside the probe, and the orders open in the pipeline did
not grow by more than 5% of those offered over the probe's second half (a
queue that keeps growing).

It prints a line per probe, then the curve sorted by rate and the knee.
--scenario supplies the stages, catalog and order mix (its phases, actions
and thresholds are ignored); stage flags you set win over it.

SLO metrics are the scenario threshold metrics: e2e_p50|p90|p99|p999|max,
<stage>_queue_wait_<stat>, <stage>_service_time_<stat> (latencies: 500ms),
error_rate (0.01 or 1%), achieved_rate_ratio, lost_orders, duplicated_orders,
double_charges, dead_lettered, late_sends.

Exit codes: 0 a knee was found · 1 even the start rate failed · 2 usage or
config error · 3 broker unreachable.`,
		Example: `  oms-sim capacity --slo 'e2e_p99<500ms'
  oms-sim capacity --slo 'e2e_p99<200ms' --slo 'error_rate<=1%' --payment-workers 2 --payment-service-time 10ms --report cap.json
  oms-sim capacity --scenario burst --slo 'payment_queue_wait_p99<100ms' --probe 10s --start-rate 50/s --max-time 3m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.amqpSet = cmd.Flags().Changed("amqp")
			o.changed = cmd.Flags().Changed
			return runCapacity(cmd, o, co)
		},
	}
	o.registerEngine(cmd, "127.0.0.1:0")
	o.registerLoad(cmd)
	o.roles = "api,payment,inventory,email" // the whole pipeline runs here
	f := cmd.Flags()
	f.StringArrayVar(&co.slos, "slo", nil, "an objective every passing probe meets, like 'e2e_p99<500ms' or 'error_rate<=1%' (repeatable; operators < <= > >=)")
	f.StringVar(&co.startRate, "start-rate", "100/s", "the first probe's rate (N/s, N/m or N/h)")
	f.Float64Var(&co.search.Factor, "factor", capacity.DefaultFactor, "ramp: multiply the rate by this while probes pass")
	f.Float64Var(&co.search.Precision, "precision", capacity.DefaultPrecision, "bisect until the last pass and the first failure are within this share of each other")
	f.DurationVar(&co.search.MaxTime, "max-time", capacity.DefaultMaxTime, "start no probe that would likely end after this")
	f.DurationVar(&co.probe, "probe", capacity.DefaultProbe, "each probe's load; long enough to see a queue grow (ρ is judged only on probes over 5s)")
	f.DurationVar(&co.warmup, "warmup", 3*time.Second, "unjudged load at the start rate before the first probe (0: none)")
	f.Float64Var(&co.crit.MinRatio, "min-ratio", capacity.DefaultMinRatio, "least share of the offered orders that must leave during the probe and be accepted")
	f.StringVar(&co.scenario, "scenario", "", "take stages, catalog and orders from this scenario (shipped name or YAML file); its phases are ignored")
	f.StringVar(&co.report, "report", "", "also write the curve and every probe's report to FILE (.json, .md or .txt)")
	return cmd
}

// runCapacity checks the flags, starts the pipeline as the main command
// does, runs the search and prints the curve.
func runCapacity(cmd *cobra.Command, o runOptions, co capacityOptions) error {
	var errs []error
	for _, s := range co.slos {
		slo, err := capacity.ParseSLO(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--slo: %w", err))
			continue
		}
		co.crit.SLOs = append(co.crit.SLOs, slo)
	}
	start, err := scenario.ParseRate(co.startRate)
	if err != nil {
		errs = append(errs, fmt.Errorf("--start-rate: %w", err))
	}
	co.search.Start = start.PerSecond()
	if co.search.Start <= 0 && err == nil {
		errs = append(errs, fmt.Errorf("--start-rate %s: must be above 0", co.startRate))
	} else if err := co.search.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !(co.crit.MinRatio > 0 && co.crit.MinRatio <= 1) {
		errs = append(errs, fmt.Errorf("--min-ratio %g: must be above 0 and at most 1", co.crit.MinRatio))
	}
	if co.probe < time.Second || co.probe > time.Duration(scenario.MaxDuration) {
		errs = append(errs, fmt.Errorf("--probe %v: must be 1s or more (20s or more to see a queue grow)", co.probe))
	}
	if co.warmup < 0 {
		errs = append(errs, fmt.Errorf("--warmup %v: must be 0 or more", co.warmup))
	}
	if co.report != "" {
		if err := loadgen.CheckReportPath(co.report, false); err != nil {
			errs = append(errs, err)
		}
	}
	if err := o.checkLoadFlags(); err != nil {
		errs = append(errs, err)
	}
	if err := o.checkURLs(); err != nil {
		errs = append(errs, err)
	}
	if err := o.checkAPIAccess(); err != nil {
		errs = append(errs, err)
	}
	tlsConf, err := o.tlsSetup()
	if err != nil {
		errs = append(errs, err)
	}
	o.tlsConf = tlsConf
	var sc *scenario.Scenario
	if co.scenario != "" {
		s, err := scenarios.Load(co.scenario)
		if err != nil {
			errs = append(errs, err)
		}
		sc = s
	}
	if len(errs) > 0 {
		return exitWith(exitUsage, errors.Join(errs...))
	}

	ctx, p, stop, err := startUp(cmd.Context(), o, sc)
	if err != nil {
		return err
	}
	defer stop() // also on a panic
	out := cmd.OutOrStdout()
	prober := &capacity.Prober{
		Engine: p.eng, Driver: newDriver(o, p.eng, p.srv), Base: sc, Broker: p.eng.Snapshot().Broker,
		Duration: co.probe, Warmup: co.warmup, Criteria: co.crit, DrainTimeout: o.drainTimeout, MaxInFlight: o.maxInFlight, Logger: p.log,
	}
	n := 0
	co.search.OnProbe = func(pr capacity.Probe) {
		n++
		fmt.Fprintln(out, capacity.ProgressLine(n, pr))
	}
	fmt.Fprintf(out, "capacity: %s, probes of %v from %s ×%g, bisect to %g%%, at most %v\n",
		sloText(co.crit.SLOs), co.probe, capacity.FormatRate(co.search.Start), co.search.Factor, 100*co.search.Precision, co.search.MaxTime)
	started := time.Now()
	res, searchErr := co.search.Run(ctx, prober.Probe)
	fmt.Fprintln(os.Stderr, "oms-sim: draining")
	p.close()

	rep := capacity.NewReport(started, co.search, co.crit, co.probe, res)
	rep.Driver = o.driver
	rep.Broker = loadgen.BrokerOf(prober.Broker)
	if sc != nil {
		rep.Settings.Scenario = sc.Name
	}
	for _, name := range engine.StageNames {
		if c, ok := p.cfg.Stages[name]; ok {
			rep.Stages = append(rep.Stages, capacity.StageSetting{Name: name, Workers: c.Workers, Prefetch: c.Prefetch, ServiceTime: c.ServiceTime.String()})
		}
	}
	fmt.Fprint(out, rep.Text())
	var verdict error
	switch {
	case searchErr != nil:
		verdict = exitWith(exitFailed, searchErr)
	case !res.Found:
		verdict = exitWith(exitFailed, fmt.Errorf("no knee: %s", strings.TrimPrefix(rep.KneeLine(), "knee: ")))
	}
	if co.report != "" {
		if err := rep.WriteFile(co.report); err != nil {
			return reportFailed(co.report, err, verdict)
		}
		fmt.Fprintf(os.Stderr, "oms-sim: report written to %s\n", co.report)
	}
	return verdict
}

// sloText heads the capacity output with the SLOs.
func sloText(slos []capacity.SLO) string {
	exprs := make([]string, len(slos))
	for i, x := range slos {
		exprs[i] = x.Expr
	}
	return capacity.SLOText(exprs)
}
