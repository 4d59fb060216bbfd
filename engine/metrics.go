package engine

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"oms-sim/internal/telemetry"
)

// MetricsHandler serves Prometheus metrics computed from a snapshot at
// scrape time, on a registry of the engine's own (no global state).
func (e *Engine) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&snapshotCollector{snapshot: e.Snapshot})
	reg.MustRegister(e.hists.collectors()...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// snapshotCollector turns a snapshot into metrics at each scrape.
type snapshotCollector struct{ snapshot func() Snapshot }

var (
	descOrders = prometheus.NewDesc("oms_orders_total", "Orders by outcome: accepted, or the terminal status reached.", []string{"status"}, nil)
	descOpen   = prometheus.NewDesc("oms_orders_open", "Accepted orders without a terminal status yet.", nil, nil)
	descDup    = prometheus.NewDesc("oms_orders_duplicated_total", "Orders that reached a second terminal status.", nil, nil)
	descRedone = prometheus.NewDesc("oms_orders_redone_total", "Orders that ended twice because a stage's work was done again after a crash or a lost connection (at-least-once, not duplicated).", nil, nil)
	descStage  = prometheus.NewDesc("oms_stage_messages_total", "Messages handled by a stage, by result.", []string{"stage", "result"}, nil)
	descAckErr = prometheus.NewDesc("oms_stage_ack_errors_total", "Acks and nacks of a stage's deliveries the broker connection refused (each delivery is then redelivered and answered from the stage's memory, or from the inbox with --state postgres).", []string{"stage"}, nil)
	descInbox  = prometheus.NewDesc("oms_stage_inbox_hits_total", "Redeliveries a stage answered from the shared state's inbox (--state postgres://…): handled before by this or another process, or before a restart; the work was not redone.", []string{"stage"}, nil)
	descInfl   = prometheus.NewDesc("oms_stage_in_flight", "Deliveries a stage holds unacknowledged.", []string{"stage"}, nil)
	descWork   = prometheus.NewDesc("oms_stage_workers", "Configured workers of a stage.", []string{"stage"}, nil)
	descUtil   = prometheus.NewDesc("oms_stage_utilisation", "Offered load ρ: arrivals into the stage's queue per second × mean service time ÷ workers (5 s); above 1 the stage cannot keep up.", []string{"stage"}, nil)
	descBusy   = prometheus.NewDesc("oms_stage_busy", "Share of the workers' time spent working (at most 1).", []string{"stage"}, nil)
	descCPU    = prometheus.NewDesc("oms_cpu_cores", "Cores used over the last second: this process, the broker (on this host) and the whole machine.", []string{"who"}, nil)
	descWait   = prometheus.NewDesc("oms_stage_queue_wait_seconds", "Queue wait percentiles since start.", []string{"stage", "quantile"}, nil)
	descServ   = prometheus.NewDesc("oms_stage_service_seconds", "Service time percentiles since start.", []string{"stage", "quantile"}, nil)
	descE2E    = prometheus.NewDesc("oms_e2e_latency_seconds", "API accept → terminal status percentiles since start.", []string{"quantile"}, nil)
	descReady  = prometheus.NewDesc("oms_queue_messages_ready", "Messages ready in a queue.", []string{"queue"}, nil)
	descUnack  = prometheus.NewDesc("oms_queue_messages_unacked", "Messages delivered to this process and not yet acked.", []string{"queue"}, nil)
	descConn   = prometheus.NewDesc("oms_broker_connected", "1 when every broker session is connected.", nil, nil)
	descRecon  = prometheus.NewDesc("oms_broker_reconnects_total", "Broker reconnections.", nil, nil)
	descAPI    = prometheus.NewDesc("oms_api_requests_total", "Order API answers by result (unavailable includes indeterminate and unroutable; shed is apart).", []string{"result"}, nil)

	descUnmatched    = prometheus.NewDesc("oms_orders_unaccepted_total", "Orders not accepted to a client: orphaned (ran, never accepted), indeterminate (503 after the broker may have had it), recovered (indeterminate, and it ran).", []string{"kind"}, nil)
	descBrokerUp     = prometheus.NewDesc("oms_broker_management_up", "1 when the management API answered the last poll (the oms_broker_* figures below are only exported then).", nil, nil)
	descBrokerReady  = prometheus.NewDesc("oms_broker_queue_messages_ready", "Messages ready in a pipeline queue, as the broker counts them (management API).", []string{"queue"}, nil)
	descBrokerUnack  = prometheus.NewDesc("oms_broker_queue_messages_unacked", "Messages delivered to any consumer of the queue and not yet acked, every process's (management API).", []string{"queue"}, nil)
	descBrokerCons   = prometheus.NewDesc("oms_broker_queue_consumers", "Consumers of the queue, of every process (management API).", []string{"queue"}, nil)
	descBrokerRate   = prometheus.NewDesc("oms_broker_queue_rate", "Messages per second into (publish) and out of (deliver) the queue, the broker's own ~5 s sampling (management API).", []string{"queue", "direction"}, nil)
	descBrokerConns  = prometheus.NewDesc("oms_broker_connections", "This process's connections as the broker sees them: all, in flow control, blocked by an alarm.", []string{"state"}, nil)
	descBrokerAlarms = prometheus.NewDesc("oms_broker_alarms", "Memory and disk alarms on in the cluster (every publisher is blocked while one is on).", nil, nil)
	descBacklog      = prometheus.NewDesc("oms_admission_backlog", "Ready messages in the work queues, as admission control sees them.", nil, nil)
	descMaxBacklog   = prometheus.NewDesc("oms_admission_max_backlog", "The backlog above which POST /api/orders sheds (0: off).", nil, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOrders, descOpen, descDup, descRedone, descStage, descAckErr, descInbox, descInfl, descWork, descUtil,
		descWait, descServ, descE2E, descReady, descUnack, descConn, descRecon, descAPI, descUnmatched, descBacklog, descMaxBacklog, descBusy, descCPU,
		descBrokerUp, descBrokerReady, descBrokerUnack, descBrokerCons, descBrokerRate, descBrokerConns, descBrokerAlarms} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	quantiles := func(d *prometheus.Desc, p telemetry.Percentiles, labels ...string) {
		for _, q := range []struct {
			name string
			v    float64
		}{{"0.5", p.P50.Seconds()}, {"0.9", p.P90.Seconds()}, {"0.99", p.P99.Seconds()}, {"0.999", p.P999.Seconds()}, {"1", p.Max.Seconds()}} {
			gauge(d, q.v, append(labels, q.name)...)
		}
	}
	o := s.Orders
	counter(descOrders, float64(o.Accepted), "accepted")
	counter(descOrders, float64(o.Confirmed), string(StatusConfirmed))
	counter(descOrders, float64(o.PaymentFailed), string(StatusPaymentFailed))
	counter(descOrders, float64(o.Refunded), string(StatusRefunded))
	counter(descOrders, float64(o.DeadLettered), string(StatusDeadLettered))
	gauge(descOpen, float64(o.Open))
	counter(descDup, float64(o.Duplicated))
	counter(descRedone, float64(o.Redone))
	for _, st := range s.Stages {
		counter(descStage, float64(st.OK), st.Name, "ok")
		counter(descStage, float64(st.Failed), st.Name, "failed")
		counter(descStage, float64(st.Retried), st.Name, "retried")
		counter(descStage, float64(st.Dead), st.Name, "dead_lettered")
		counter(descStage, float64(st.Redelivered), st.Name, "redelivered")
		counter(descAckErr, float64(st.AckErrors), st.Name)
		counter(descInbox, float64(st.InboxHits), st.Name)
		gauge(descInfl, float64(st.InFlight), st.Name)
		gauge(descWork, float64(st.Config.Workers), st.Name)
		gauge(descUtil, st.Utilisation, st.Name)
		gauge(descBusy, st.Busy, st.Name)
		quantiles(descWait, st.QueueWait, st.Name)
		quantiles(descServ, st.Service, st.Name)
	}
	quantiles(descE2E, s.E2E)
	for _, q := range s.Queues {
		gauge(descReady, float64(q.Ready), q.Name)
		gauge(descUnack, float64(q.Unacked), q.Name)
	}
	conn := 0.0
	if s.Broker.Connected {
		conn = 1
	}
	gauge(descConn, conn)
	for _, c := range []struct {
		who string
		v   float64
	}{{"oms-sim", s.ProcessCPU}, {"broker", s.Broker.CPU}, {"machine", s.MachineCPU}} {
		if c.v >= 0 {
			gauge(descCPU, c.v, c.who)
		}
	}
	counter(descRecon, float64(s.Broker.Reconnects))
	counter(descAPI, float64(s.API.Accepted), "accepted")
	counter(descAPI, float64(s.API.Rejected), "rejected")
	counter(descAPI, float64(s.API.Unavailable), "unavailable")
	counter(descAPI, float64(s.API.Shed), "shed")
	counter(descAPI, float64(s.API.Indeterminate), "indeterminate")
	counter(descAPI, float64(s.API.Unroutable), "unroutable")
	counter(descUnmatched, float64(o.Orphaned), "orphaned")
	counter(descUnmatched, float64(o.Indeterminate), "indeterminate")
	counter(descUnmatched, float64(o.Recovered), "recovered")
	brokerSide(gauge, s.Broker.Side)
	gauge(descBacklog, float64(s.Admission.Backlog))
	gauge(descMaxBacklog, float64(s.Admission.MaxBacklog))
}

// brokerSide exports the management API's view of the pipeline's queues
// and this process's connections (the dashboard's m view), when it has
// one: a scrape of a process without it says so with
// oms_broker_management_up 0 and no stale figures.
func brokerSide(gauge func(*prometheus.Desc, float64, ...string), b BrokerSide) {
	if !b.Available {
		gauge(descBrokerUp, 0)
		return
	}
	gauge(descBrokerUp, 1)
	for _, q := range b.Queues {
		gauge(descBrokerReady, float64(q.Ready), q.Name)
		gauge(descBrokerUnack, float64(q.Unacked), q.Name)
		gauge(descBrokerCons, float64(q.Consumers), q.Name)
		gauge(descBrokerRate, q.PublishRate, q.Name, "publish")
		gauge(descBrokerRate, q.DeliverRate, q.Name, "deliver")
	}
	gauge(descBrokerConns, float64(b.Connections), "all")
	gauge(descBrokerConns, float64(b.Flow), "flow")
	gauge(descBrokerConns, float64(b.Blocked), "blocked")
	gauge(descBrokerAlarms, float64(len(b.Alarms)))
}
