package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
	"oms-sim/internal/telemetry"
)

func stages(rhos ...float64) []engine.StageSnapshot {
	var out []engine.StageSnapshot
	for i, r := range rhos {
		out = append(out, engine.StageSnapshot{Name: engine.StageNames[i], Utilisation: r, Running: 2})
	}
	return out
}

func TestJudge(t *testing.T) {
	quick := engine.APIStats{Publish: telemetry.Percentiles{Count: 100, P99: 3 * time.Millisecond}}
	slow := engine.APIStats{Publish: telemetry.Percentiles{Count: 100, P99: 400 * time.Millisecond}}
	overloaded := stages(1.5, 0.2, 0.1)
	overloaded[0].Bottleneck, overloaded[0].Reason = true, "ρ 150%: 300/s arrive × 10ms ÷ 2 workers"
	tests := []struct {
		name  string
		w     window
		s     engine.Snapshot
		kind  string
		stage string
		says  []string
	}{
		{"broker away", window{offered: 200, sent: 200}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: quick, Broker: engine.BrokerStatus{Kind: "rabbitmq", LastError: "api: dial tcp: connection refused"}}, LimitBroker, "", []string{"connection is down", "connection refused"}},
		{"keeps up", window{offered: 100, sent: 100}, engine.Snapshot{Stages: stages(0.3, 0.1, 0.1), API: quick}, LimitNone, "", []string{"sent 100/s of 100/s"}},
		{"a stage", window{offered: 300, sent: 300}, engine.Snapshot{Stages: overloaded, API: quick}, LimitStage, "payment", []string{"ρ 150%"}},
		{"blocked", window{offered: 100, sent: 20}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{Blocked: true, BlockedReason: "low on memory"}}, LimitBroker, "", []string{"connection.blocked", "low on memory"}},
		{"slow confirms, idle stages", window{offered: 4000, sent: 2000, dropped: 2000}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{CPU: 1.2}, ProcessCPU: 0.6}, LimitBroker, "", []string{"confirms p99 400ms", "broker 1.20 cores", "spare workers"}},
		{"sends slow before the broker", window{offered: 4000, sent: 2000, dropped: 2000, answerP99: 2 * time.Second}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow}, LimitGenerator, "", []string{"sends take p99 2s of which the broker's confirm p99 400ms"}},
		{"quick confirms, generator behind", window{offered: 4000, sent: 2500, late: 300}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: quick, Broker: engine.BrokerStatus{CPU: 0.5}, ProcessCPU: 1.8}, LimitGenerator, "", []string{"sent 2500/s of 4000/s", "300/s sent late", "oms-sim 1.80 cores"}},
		{"generator late, its goroutines queue", window{offered: 1500, sent: 1500, late: 60}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: quick, Broker: engine.BrokerStatus{CPU: 1.1}, ProcessCPU: 0.8, SchedP99: 24.3}, LimitGenerator, "", []string{"60/s sent late", "oms-sim's goroutines waited p99 24ms for a CPU"}},
		{"slow confirms timed by a queueing client", window{offered: 1500, sent: 1500, late: 60}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{CPU: 1.1, Nodes: engine.NodeLoad{RunQueue: 0, Schedulers: 2}}, ProcessCPU: 0.9, SchedP99: 18}, LimitGenerator, "", []string{"own goroutines queue for a CPU (p99 18ms)", "confirms it times (p99 400ms)", "not the broker"}},
		{"slow confirms, client queueing, broker's run queue long", window{offered: 1500, sent: 1500, late: 60}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{CPU: 1.9, Nodes: engine.NodeLoad{RunQueue: 6, Schedulers: 2}}, ProcessCPU: 0.9, SchedP99: 18}, LimitBroker, "", []string{"confirms p99 400ms"}},
		{"shedding, stage busy", window{offered: 500, sent: 500}, engine.Snapshot{Stages: stages(0.95, 0.1, 0.1), API: quick, Admission: engine.AdmissionStatus{Shedding: true, Backlog: 12000, MaxBacklog: 10000}}, LimitStage, "payment", []string{"sheds (backlog 12000 > 10000)"}},
		{"shedding, stages idle", window{offered: 500, sent: 500}, engine.Snapshot{Stages: stages(0.2, 0.1, 0.1), API: quick, Admission: engine.AdmissionStatus{Shedding: true, Backlog: 12000, MaxBacklog: 10000}, Broker: engine.BrokerStatus{CPU: -1, Nodes: engine.NodeLoad{RunQueue: -1}}}, LimitBroker, "", []string{"spare workers", "broker CPU unknown"}},
		{"remote broker, slow confirms", window{offered: 4000, sent: 2000, dropped: 2000}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{CPU: -1, Nodes: engine.NodeLoad{RunQueue: 9, Schedulers: 4}}}, LimitBroker, "", []string{"run queue 9 on 4 schedulers"}},
		{"memory alarm", window{offered: 100, sent: 10}, engine.Snapshot{Stages: stages(0.1, 0.1, 0.1), API: slow, Broker: engine.BrokerStatus{Nodes: engine.NodeLoad{RunQueue: 1, Alarms: []string{"memory on rabbit@a"}}}}, LimitBroker, "", []string{"memory on rabbit@a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := judge(tt.w, tt.s)
			if l.Kind != tt.kind || l.Stage != tt.stage {
				t.Fatalf("judged %+v, want %s %s", l, tt.kind, tt.stage)
			}
			for _, w := range tt.says {
				if !strings.Contains(l.Evidence, w) {
					t.Errorf("evidence %q lacks %q", l.Evidence, w)
				}
			}
		})
	}
}

func TestLimitTally(t *testing.T) {
	var tl limitTally
	if tl.verdict() != nil {
		t.Fatal("a verdict from no seconds")
	}
	for i := 0; i < 3; i++ {
		tl.add(Limit{Kind: LimitNone, Evidence: "fine"})
	}
	for i := 0; i < 3; i++ {
		tl.add(Limit{Kind: LimitBroker, Evidence: "slow confirms", Brief: "confirms p99 1s"})
	}
	tl.add(Limit{Kind: LimitStage, Stage: "email", Evidence: "ρ 120%"})
	v := tl.verdict()
	if v.Kind != LimitBroker || v.Brief != "confirms p99 1s" || !strings.Contains(v.Evidence, "(3 of 7 seconds)") {
		t.Errorf("verdict %+v: want the broker, winning the tie against none", v)
	}
	rl := runLimit([]PhaseReport{
		{Name: "a", TargetRate: 100, Limit: &Limit{Kind: LimitNone}},
		{Name: "b", TargetRate: 4000, Limit: &Limit{Kind: LimitBroker, Evidence: "x"}},
		{Name: "c", TargetRate: 500, Limit: &Limit{Kind: LimitStage, Stage: "payment", Evidence: "y"}},
	})
	if rl.Kind != LimitBroker || !strings.HasPrefix(rl.Evidence, "in phase b") {
		t.Errorf("run limit %+v: want the busiest limited phase's", rl)
	}
}

// slowDriver places orders through the engine but takes its time first,
// as an overloaded client would.
type slowDriver struct {
	PublishDriver
	delay time.Duration
}

func (d slowDriver) Send(ctx context.Context, req engine.OrderRequest) (string, error) {
	time.Sleep(d.delay)
	return d.PublishDriver.Send(ctx, req)
}

// TestReportNamesTheLimit runs two overloads on RabbitMQ and checks the
// report names what limited each: a stage with more arrivals than it can
// take, and a generator that cannot send what is offered while the broker
// and the stages keep up.
func TestReportNamesTheLimit(t *testing.T) {
	t.Run("stage", func(t *testing.T) {
		sc := parse(t, `
name: stage-limit
stages: {payment: {workers: 1, prefetch: 20, service_time: {dist: constant, value: 10ms}}}
phases: [{name: over, duration: 6s, rate: 150/s}]
`)
		e := startEngine(t, sc)
		rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}, DrainTimeout: 60 * time.Second})
		l := rep.Phases[0].Limit
		if l == nil || l.Kind != LimitStage || l.Stage != engine.StagePayment || !strings.Contains(l.Evidence, "ρ") {
			t.Errorf("phase limit %+v, want stage payment with its ρ", l)
		}
		if rep.Limit == nil || rep.Limit.Kind != LimitStage || !strings.Contains(rep.Text(), "LIMIT: stage payment") {
			t.Errorf("run limit %+v; text:\n%s", rep.Limit, rep.Text())
		}
	})
	t.Run("generator", func(t *testing.T) {
		sc := parse(t, "name: gen-limit\nphases: [{name: over, duration: 5s, rate: 200/s}]\n")
		e := startEngine(t, sc)
		// Two sends at a time, 500 ms each: at most 4/s of the 200/s. The
		// send time is the driver's by far, even when a loaded machine
		// slows the broker's confirms to 100 ms (a 50 ms driver was not).
		rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: slowDriver{PublishDriver{P: e}, 500 * time.Millisecond}, MaxInFlight: 2})
		l := rep.Phases[0].Limit
		if l == nil || l.Kind != LimitGenerator || !strings.Contains(l.Evidence, "dropped") {
			t.Errorf("phase limit %+v, want the generator, dropping", l)
		}
		if rep.Audit.Lost != 0 {
			t.Errorf("audit %+v", rep.Audit)
		}
	})
}
