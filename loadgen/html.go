package loadgen

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"strings"

	"oms-sim/internal/telemetry"
	"oms-sim/internal/uplot"
)

//go:embed report.html.tmpl
var reportHTML string

// htmlFuncs are the report template's formatting helpers.
var htmlFuncs = template.FuncMap{
	"ms":   FormatMs,
	"pct":  func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
	"join": strings.Join,
}

var reportTmpl = template.Must(template.New("report").Funcs(htmlFuncs).Parse(reportHTML))

// HTML renders the report as one self-contained page: the header,
// thresholds, audit, phase, stage and latency tables, and charts of the
// series drawn by the embedded uPlot. Scripts, styles and data are all
// inline, so the file opens offline and makes no request. The report's
// JSON is inside (script#report-data), so the page's data round-trips.
func (rep *Report) HTML() (string, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return "", fmt.Errorf("encode report data: %w", err)
	}
	var b bytes.Buffer
	err = reportTmpl.Execute(&b, struct {
		R            *Report
		Bodies, Mode string
		Latencies    []namedLatency
		Data         template.JS
		UPlotJS      template.JS
		UPlotCSS     template.CSS
	}{
		R: rep, Bodies: bodySize(rep.Broker.BodyBytes), Mode: deliveryMode(rep.Broker.Persistent),
		Latencies: []namedLatency{{"e2e", rep.E2E}, {"accept", rep.Accept}, {"send lateness", rep.Lateness}},
		// json.Marshal escapes <, > and &, so the data cannot end the
		// script element early.
		Data: template.JS(data), UPlotJS: template.JS(uplot.JS), UPlotCSS: template.CSS(uplot.CSS),
	})
	if err != nil {
		return "", fmt.Errorf("render HTML report: %w", err)
	}
	return b.String(), nil
}

type namedLatency struct {
	Name string
	L    telemetry.Millis
}

// htmlDataOpen starts the report's data in an HTML report.
const htmlDataOpen = `<script id="report-data" type="application/json">`

// ReportFromHTML reads the report back out of an HTML report (its
// script#report-data), so compare takes .html reports as well as .json.
func ReportFromHTML(page []byte) ([]byte, error) {
	_, rest, ok := bytes.Cut(page, []byte(htmlDataOpen))
	if !ok {
		return nil, errors.New("not an oms-sim HTML report: no script#report-data")
	}
	data, _, ok := bytes.Cut(rest, []byte("</script>"))
	if !ok {
		return nil, errors.New("HTML report: script#report-data is not closed")
	}
	return data, nil
}
