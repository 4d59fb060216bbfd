package capacity

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"oms-sim/loadgen"
)

// ReportVersion is the version of the capacity report's JSON schema (see
// README "oms-sim capacity"); it changes when a field changes meaning or
// goes away.
const ReportVersion = 1

// Report is a capacity search's result: the settings, every probe in the
// order it ran, and the knee.
type Report struct {
	Version    int            `json:"version"`
	Kind       string         `json:"kind"` // always "capacity"
	StartedAt  time.Time      `json:"started_at"`
	DurationMs float64        `json:"duration_ms"`
	SLOs       []string       `json:"slos"`
	Settings   Settings       `json:"settings"`
	Driver     string         `json:"driver"`
	Broker     loadgen.Broker `json:"broker"`
	Stages     []StageSetting `json:"stages"`
	Probes     []Probe        `json:"probes"`
	// Knee is the highest passing rate (orders/s); KneeFound is false when
	// none passed. FirstFail is the lowest failing rate above it (0: none
	// failed). Stop says why the search ended: precision, max-time,
	// max-rate, start-failed or interrupted.
	Knee      float64 `json:"knee"`
	KneeFound bool    `json:"knee_found"`
	FirstFail float64 `json:"first_fail"`
	Stop      string  `json:"stop"`
}

// Settings are the search's and the probes' settings.
type Settings struct {
	Scenario    string  `json:"scenario,omitempty"` // where stages and orders came from
	ProbeMs     float64 `json:"probe_ms"`
	StartRate   float64 `json:"start_rate"`
	Factor      float64 `json:"factor"`
	Precision   float64 `json:"precision"`
	MaxTimeMs   float64 `json:"max_time_ms"`
	MinRatio    float64 `json:"min_ratio"`
	LateShare   float64 `json:"late_share"`
	GrowthShare float64 `json:"growth_share"`
}

// StageSetting is a stage's configuration during the search.
type StageSetting struct {
	Name        string `json:"name"`
	Workers     int    `json:"workers"`
	Prefetch    int    `json:"prefetch"`
	ServiceTime string `json:"service_time"`
}

// NewReport assembles a report from a finished search.
func NewReport(started time.Time, s Search, c Criteria, probe time.Duration, res Result) *Report {
	s.setDefaults()
	c.setDefaults()
	rep := &Report{
		Version: ReportVersion, Kind: "capacity", StartedAt: started.UTC(), DurationMs: ms(res.Elapsed),
		Settings: Settings{ProbeMs: ms(probe), StartRate: s.Start, Factor: s.Factor, Precision: s.Precision,
			MaxTimeMs: ms(s.MaxTime), MinRatio: c.MinRatio, LateShare: c.LateShare, GrowthShare: c.GrowthShare},
		Probes: res.Probes, Knee: res.Knee, KneeFound: res.Found, FirstFail: res.Fail, Stop: res.Stop,
	}
	rep.SLOs = []string{}
	for _, slo := range c.SLOs {
		rep.SLOs = append(rep.SLOs, slo.Expr)
	}
	if rep.Probes == nil {
		rep.Probes = []Probe{}
	}
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ProgressLine describes probe n (1-based) as it ends.
func ProgressLine(n int, p Probe) string {
	var b strings.Builder
	fmt.Fprintf(&b, "probe %d (%s) %s: sent %s, done %s, e2e p99 %s", n, p.Step, FormatRate(p.Rate),
		FormatRate(p.SentRate), FormatRate(p.CompletedRate), latency(p.E2E.Count, p.E2E.P99))
	for _, st := range p.Stages {
		fmt.Fprintf(&b, ", %s ρ %s", st.Name, rho(st))
	}
	if p.Pass {
		b.WriteString(" — pass")
	} else {
		b.WriteString(" — FAIL: " + strings.Join(p.Reasons, "; "))
	}
	return b.String()
}

// Text renders the curve and the knee for a terminal.
func (rep *Report) Text() string { return rep.render(false) }

// Markdown renders the curve as a Markdown table and the knee.
func (rep *Report) Markdown() string { return rep.render(true) }

func (rep *Report) render(md bool) string {
	var b strings.Builder
	if md {
		b.WriteString("# oms-sim capacity\n\n")
	} else {
		b.WriteString("\nCAPACITY CURVE\n")
	}
	fmt.Fprintf(&b, "%s; probes of %v, driver %s, broker %s (%s queues)\n", rep.sloText(),
		time.Duration(rep.Settings.ProbeMs*float64(time.Millisecond)), rep.Driver, rep.Broker.Kind, rep.Broker.QueueType)
	var stages []string
	for _, st := range rep.Stages {
		stages = append(stages, fmt.Sprintf("%s %d×%s", st.Name, st.Workers, st.ServiceTime))
	}
	if len(stages) > 0 {
		fmt.Fprintf(&b, "stages: %s (workers × service time)\n", strings.Join(stages, ", "))
	}
	if md {
		b.WriteString("\n")
	}
	header := []string{"OFFERED", "SENT/s", "DONE/s", "e2e p50", "p99"}
	var names []string
	if len(rep.Probes) > 0 {
		for _, st := range rep.Probes[0].Stages {
			names = append(names, st.Name)
			header = append(header, "ρ "+st.Name)
		}
	}
	header = append(header, "BOTTLENECK", "RESULT")
	probes := slices.Clone(rep.Probes)
	slices.SortStableFunc(probes, func(a, b Probe) int {
		switch {
		case a.Rate < b.Rate:
			return -1
		case a.Rate > b.Rate:
			return 1
		}
		return 0
	})
	var rows [][]string
	for _, p := range probes {
		row := []string{FormatRate(p.Rate), FormatRate(p.SentRate), FormatRate(p.CompletedRate),
			latency(p.E2E.Count, p.E2E.P50), latency(p.E2E.Count, p.E2E.P99)}
		for i := range names {
			cell := "-"
			if i < len(p.Stages) {
				cell = rho(p.Stages[i])
			}
			row = append(row, cell)
		}
		verdict := "pass"
		if !p.Pass {
			verdict = "FAIL: " + strings.Join(p.Reasons, "; ")
		}
		rows = append(rows, append(row, p.Bottleneck, verdict))
	}
	if md {
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
		}
	} else {
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  "+strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(w, "  "+strings.Join(r, "\t"))
		}
		w.Flush()
	}
	b.WriteString("\n" + rep.KneeLine() + "\n")
	return b.String()
}

// KneeLine is the verdict in one line.
func (rep *Report) KneeLine() string {
	if !rep.KneeFound {
		if rep.Stop == StopInterrupted {
			return "knee: not found (interrupted before any probe passed)"
		}
		return fmt.Sprintf("knee: not found — even the start rate %s failed; try a lower --start-rate", FormatRate(rep.Settings.StartRate))
	}
	var how string
	switch rep.Stop {
	case StopPrecision:
		how = fmt.Sprintf("%s failed", FormatRate(rep.FirstFail))
	case StopMaxTime:
		how = "max time reached"
		if rep.FirstFail > 0 {
			how += fmt.Sprintf("; %s failed, the knee lies between", FormatRate(rep.FirstFail))
		}
	case StopMaxRate:
		how = "the highest rate tried passed; the knee is at or above it"
	case StopInterrupted:
		how = "interrupted"
	}
	return fmt.Sprintf("knee: %s orders/s (%s; %s)", strings.TrimSuffix(FormatRate(rep.Knee), "/s"), rep.sloText(), how)
}

func (rep *Report) sloText() string { return SLOText(rep.SLOs) }

// SLOText names the SLOs a search holds probes to, as its output heads
// them: "SLO e2e_p99<500ms, error_rate<=1%".
func SLOText(exprs []string) string {
	if len(exprs) == 0 {
		return "no SLO: sustained load only"
	}
	return "SLO " + strings.Join(exprs, ", ")
}

// rho shows a stage's ρ; in brackets when it was not measured within the
// probe (too short).
func rho(st StageLoad) string {
	if st.RhoMeasured {
		return fmt.Sprintf("%.2f", st.Rho)
	}
	return fmt.Sprintf("(%.2f)", st.Rho)
}

// latency formats milliseconds, or "-" when nothing was measured.
func latency(count int64, v float64) string {
	switch {
	case count == 0:
		return "-"
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// WriteFile writes the report as .json, .md or .txt by the file's
// extension (check it first with loadgen.CheckReportPath).
func (rep *Report) WriteFile(path string) error {
	return loadgen.WriteReport(path, rep, loadgen.Forms{Markdown: rep.Markdown, Text: rep.Text})
}
