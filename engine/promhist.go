package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latencyBuckets are the classic histogram buckets, in seconds: 100 µs to
// a minute, fine enough for histogram_quantile over sums of processes.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// promHists are the engine's latencies as Prometheus histograms. Unlike
// the percentile gauges they aggregate: several processes' buckets sum
// (sum by (le) (rate(..._bucket[1m]))). Each has classic buckets and
// native (sparse) buckets, which a scraper asking for the protobuf format
// gets too.
type promHists struct {
	e2e       prometheus.Histogram
	confirm   prometheus.Histogram
	queueWait *prometheus.HistogramVec
	service   *prometheus.HistogramVec
}

func histOpts(name, help string) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{
		Name: name, Help: help, Buckets: latencyBuckets,
		// Native buckets grow by at most 10 % each; at most 160 of them,
		// halving the resolution if more would be needed.
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}
}

func newPromHists() *promHists {
	return &promHists{
		e2e: prometheus.NewHistogram(histOpts("oms_e2e_duration_seconds",
			"API accept → terminal status of every order this process saw end (with the stream event log, every process sees every order: query one)."),
		),
		confirm: prometheus.NewHistogram(histOpts("oms_publish_confirm_duration_seconds",
			"The API's publish → broker confirm of order.created.")),
		queueWait: prometheus.NewHistogramVec(histOpts("oms_stage_queue_wait_duration_seconds",
			"Published → delivered to this process's workers of a stage."), []string{"stage"}),
		service: prometheus.NewHistogramVec(histOpts("oms_stage_service_duration_seconds",
			"Delivered → outgoing publish in this process's workers of a stage."), []string{"stage"}),
	}
}

func (h *promHists) collectors() []prometheus.Collector {
	return []prometheus.Collector{h.e2e, h.confirm, h.queueWait, h.service}
}

// wire makes e's latency recorders observe into the histograms too; it
// runs in New, before anything records.
func (h *promHists) wire(e *Engine) {
	e.ledger.e2e.SetObserver(h.e2e)
	e.pub.confirm.SetObserver(h.confirm)
	for name, s := range e.stages {
		s.stats.queueWait.SetObserver(h.queueWait.WithLabelValues(name))
		s.stats.service.SetObserver(h.service.WithLabelValues(name))
	}
}
