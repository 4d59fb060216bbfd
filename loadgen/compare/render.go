package compare

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"text/tabwriter"

	"oms-sim/internal/uplot"
	"oms-sim/loadgen"
)

// mark is a row's verdict in the tables.
func (r Row) mark() string {
	switch {
	case r.Note != "":
		return r.Note
	case r.Regressed && r.Gated:
		return "REGRESSED"
	case r.Regressed:
		return "worse"
	case r.Improved:
		return "better"
	}
	return ""
}

func (r Row) pct() string {
	if r.Note != "" {
		return ""
	}
	if r.Pct == nil {
		if r.Delta == 0 {
			return "0%"
		}
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", *r.Pct)
}

func (r Row) cells() []string {
	a, b, delta := fmtValue(r.A, r.Unit), fmtValue(r.B, r.Unit), ""
	switch r.Note {
	case "only in A":
		b = "–"
	case "only in B":
		a = "–"
	default:
		delta = fmtValue(r.Delta, r.Unit)
		if r.Delta > 0 {
			delta = "+" + delta
		}
	}
	gate := ""
	if r.Gated {
		gate = "●"
	}
	return []string{r.Group, r.Metric, gate, a, b, delta, r.pct(), r.mark()}
}

var header = []string{"", "metric", "gated", "A", "B", "Δ", "Δ%", ""}

// Verdict is the comparison's one-line result.
func (d *Diff) Verdict() string {
	if d.Passed {
		return fmt.Sprintf("PASSED: B regressed on no gated metric beyond %s", tolText(d.Tolerance))
	}
	var names []string
	for _, r := range d.Rows {
		if r.Regressed && r.Gated {
			names = append(names, r.Group+" "+r.Metric)
		}
	}
	return fmt.Sprintf("FAILED: B regressed beyond %s on %d gated metric(s): %s", tolText(d.Tolerance), d.Regressed, strings.Join(names, ", "))
}

func tolText(t float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", t*100), ".0") + "%" }

func (d *Diff) intro() []string {
	return []string{
		fmt.Sprintf("A: %s — %s, run %s, started %s (report v%d)", d.A.Path, d.A.Scenario, d.A.RunID, d.A.Started.Format("2006-01-02 15:04:05"), d.A.Version),
		fmt.Sprintf("B: %s — %s, run %s, started %s (report v%d)", d.B.Path, d.B.Scenario, d.B.RunID, d.B.Started.Format("2006-01-02 15:04:05"), d.B.Version),
		fmt.Sprintf("tolerance %s (latencies also by more than %s); ● gated: a regression there fails the comparison", tolText(d.Tolerance), fmtValue(d.FloorMs, "ms")),
	}
}

// Text renders the comparison as aligned columns.
func (d *Diff) Text() string {
	var b strings.Builder
	b.WriteString("oms-sim compare: B against A\n")
	for _, l := range d.intro() {
		b.WriteString(l + "\n")
	}
	if d.A.Scenario != d.B.Scenario {
		fmt.Fprintf(&b, "note: different scenarios (%s, %s): phases are matched by name\n", d.A.Scenario, d.B.Scenario)
	}
	b.WriteString("\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, strings.Join(header, "\t")+"\t")
	for _, r := range d.Rows {
		fmt.Fprintln(w, strings.Join(r.cells(), "\t")+"\t")
	}
	w.Flush()
	b.WriteString("\n" + d.Verdict() + "\n")
	return b.String()
}

// Markdown renders the comparison as a Markdown table.
func (d *Diff) Markdown() string {
	var b strings.Builder
	b.WriteString("# oms-sim compare: B against A\n\n")
	for _, l := range d.intro() {
		b.WriteString("- " + l + "\n")
	}
	fmt.Fprintf(&b, "\n| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range d.Rows {
		c := r.cells()
		if r.Regressed && r.Gated {
			c[7] = "**REGRESSED**"
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(c, " | "))
	}
	fmt.Fprintf(&b, "\n**%s**\n", d.Verdict())
	return b.String()
}

//go:embed diff.html.tmpl
var diffHTML string

var diffTmpl = template.Must(template.New("diff").Parse(diffHTML))

// HTML renders the comparison as one self-contained page: the table and,
// when both reports have a series, A and B overlaid on the same charts.
func (d *Diff) HTML() (string, error) {
	type side struct {
		Series *loadgen.Series `json:"series"`
	}
	data, err := json.Marshal(struct {
		A side `json:"a"`
		B side `json:"b"`
	}{side{d.a.Series}, side{d.b.Series}})
	if err != nil {
		return "", fmt.Errorf("encode series: %w", err)
	}
	type row struct {
		Cells     []string
		Regressed bool
		Improved  bool
	}
	var rows []row
	for _, r := range d.Rows {
		rows = append(rows, row{r.cells(), r.Regressed && r.Gated, r.Improved})
	}
	var b bytes.Buffer
	err = diffTmpl.Execute(&b, struct {
		D        *Diff
		Intro    []string
		Header   []string
		Rows     []row
		Verdict  string
		Data     template.JS
		UPlotJS  template.JS
		UPlotCSS template.CSS
	}{d, d.intro(), header, rows, d.Verdict(), template.JS(data), template.JS(uplot.JS), template.CSS(uplot.CSS)})
	if err != nil {
		return "", fmt.Errorf("render HTML comparison: %w", err)
	}
	return b.String(), nil
}

// WriteFile writes the comparison as .json, .md, .txt or .html by the
// file's extension.
func (d *Diff) WriteFile(path string) error {
	return loadgen.WriteReport(path, d, loadgen.Forms{Markdown: d.Markdown, Text: d.Text, HTML: d.HTML})
}
