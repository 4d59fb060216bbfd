package loadgen

import (
	"slices"
	"sync"
	"time"

	"oms-sim/engine"
)

// MaxSeriesPoints bounds a run's time series: when a run passes it (an
// hour at one point a second) neighbouring points are merged in pairs and
// the interval doubles, so memory stays bounded however long the run.
const MaxSeriesPoints = 3600

// Series is a run's figures over time: one point a second, coarser past
// MaxSeriesPoints, with the phases and the fired actions as markers.
// Rates are per second over the point's interval; latencies are in ms.
type Series struct {
	// IntervalMs is the time each point covers: 1000, doubled each time
	// the run outgrew MaxSeriesPoints.
	IntervalMs float64 `json:"interval_ms"`
	// Stages names the stages in the order of every point's Stages.
	Stages []string      `json:"stages"`
	Points []SeriesPoint `json:"points"`
	// Phases are the schedule's phases as spans from the run's start.
	Phases []PhaseSpan `json:"phases"`
	// Markers are the scenario's actions as they fired (and their
	// reverts).
	Markers []Marker `json:"markers"`
}

// SeriesPoint is the run over one interval ending at T.
type SeriesPoint struct {
	// T is the end of the interval, in seconds from the run's start.
	T float64 `json:"t_s"`
	// Offered is what the schedule offered; Sent, Accepted and Shed are
	// the generator's sends and their answers (shed: 503 backlog);
	// Completed is orders reaching a terminal status. All per second.
	Offered   float64 `json:"offered"`
	Sent      float64 `json:"sent"`
	Accepted  float64 `json:"accepted"`
	Completed float64 `json:"completed"`
	Shed      float64 `json:"shed"`
	// E2EP50 and E2EP99 are accept → terminal status over the last 5–10 s
	// (0 when no order ended then).
	E2EP50 float64 `json:"e2e_p50_ms"`
	E2EP99 float64 `json:"e2e_p99_ms"`
	// LatenessMax is the latest a send left behind its intended time
	// during the interval; InFlight the sends awaiting an answer at its
	// end (the highest, once points are merged).
	LatenessMax float64      `json:"lateness_max_ms"`
	InFlight    int64        `json:"in_flight"`
	Stages      []StagePoint `json:"stages"`
	// Broker is the management API's view of this process's connections
	// and the nodes' alarms; absent when the API did not answer.
	Broker *BrokerPoint `json:"broker,omitempty"`
}

// BrokerPoint is the broker's side at the end of an interval (the
// management API is read every 2 s). Merged points keep the highest
// counts and every alarm seen.
type BrokerPoint struct {
	Flow    int      `json:"flow"`             // this process's connections in flow control
	Blocked int      `json:"blocked"`          // … blocked or blocking by an alarm
	Alarms  []string `json:"alarms,omitempty"` // memory and disk alarms on: "memory on rabbit@a"
}

// StagePoint is one stage at the end of an interval.
type StagePoint struct {
	Ready       int     `json:"ready"`          // messages ready in its queue
	WaitP99     float64 `json:"wait_p99_ms"`    // queue wait p99, last 5–10 s
	ServiceP99  float64 `json:"service_p99_ms"` // service time p99, last 5–10 s
	Utilisation float64 `json:"utilisation"`    // offered load ρ (5 s)
	Workers     int     `json:"workers"`
	// BrokerUnacked is the queue's unacked messages across every consumer
	// of every process, from the management API (absent when it did not
	// answer); this process's workers hold only part of them.
	BrokerUnacked *int `json:"broker_unacked,omitempty"`
}

// PhaseSpan is one phase's place in the run, in seconds from its start.
type PhaseSpan struct {
	Name  string  `json:"name"`
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
}

// Marker is something that happened at a moment of the run: kind
// "action" for a scenario action (or the end of its "for").
type Marker struct {
	T    float64 `json:"t_s"`
	Kind string  `json:"kind"`
	Text string  `json:"text"`
}

// Marker kinds.
const MarkerAction = "action"

// seriesRecorder keeps a run's series, bounded. Sample is called from the
// progress loop once a second; Mark from the actions goroutine.
type seriesRecorder struct {
	mu      sync.Mutex
	s       Series
	factor  int         // raw samples per point (1, 2, 4, …)
	acc     SeriesPoint // samples merged into the next point so far
	accN    int
	last    seriesTotals // the counters at the previous sample
	lastT   float64
	started bool
}

// seriesTotals are the cumulative counts a sample turns into rates.
type seriesTotals struct {
	offered                         float64
	sent, accepted, completed, shed int64
}

func newSeriesRecorder(stages []string, phases []PhaseSpan) *seriesRecorder {
	return &seriesRecorder{factor: 1, s: Series{IntervalMs: 1000, Stages: stages, Phases: phases,
		Points: []SeriesPoint{}, Markers: []Marker{}}}
}

// sample turns the totals at t (from the run's start) and the snapshot
// into one raw point and adds it.
func (sr *seriesRecorder) sample(t time.Duration, tot seriesTotals, lateMax time.Duration, inflight int64, snap engine.Snapshot) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	ts := t.Seconds()
	if !sr.started {
		sr.started, sr.last, sr.lastT = true, seriesTotals{}, 0
	}
	dt := ts - sr.lastT
	if dt <= 0 {
		return
	}
	rate := func(now, before int64) float64 { return float64(now-before) / dt }
	p := SeriesPoint{
		T: ts, Offered: (tot.offered - sr.last.offered) / dt,
		Sent: rate(tot.sent, sr.last.sent), Accepted: rate(tot.accepted, sr.last.accepted),
		Completed: rate(tot.completed, sr.last.completed), Shed: rate(tot.shed, sr.last.shed),
		E2EP50: msOf(snap.E2ERecent.P50), E2EP99: msOf(snap.E2ERecent.P99),
		LatenessMax: msOf(lateMax), InFlight: inflight,
	}
	for _, name := range sr.s.Stages {
		var sp StagePoint
		if st, ok := snap.Stage(name); ok {
			sp = StagePoint{WaitP99: msOf(st.QueueWaitRecent.P99), ServiceP99: msOf(st.ServiceRecent.P99),
				Utilisation: st.Utilisation, Workers: st.Config.Workers, Ready: st.Queue.Ready,
				BrokerUnacked: brokerUnacked(snap.Broker.Side, st.Queue.Name)}
		}
		p.Stages = append(p.Stages, sp)
	}
	if side := snap.Broker.Side; side.Available {
		p.Broker = &BrokerPoint{Flow: side.Flow, Blocked: side.Blocked, Alarms: slices.Clone(snap.Broker.Nodes.Alarms)}
	}
	sr.last, sr.lastT = tot, ts
	sr.add(p)
}

// add merges a raw point into the one being built and appends it when it
// covers the interval; past MaxSeriesPoints the whole series halves.
func (sr *seriesRecorder) add(p SeriesPoint) {
	if sr.accN == 0 {
		sr.acc = p
	} else {
		sr.acc = mergePoints(sr.acc, p, sr.accN, 1)
	}
	sr.accN++
	if sr.accN < sr.factor {
		return
	}
	sr.s.Points = append(sr.s.Points, sr.acc)
	sr.accN = 0
	if len(sr.s.Points) < MaxSeriesPoints {
		return
	}
	pts := sr.s.Points
	half := pts[:0:0]
	for i := 0; i+1 < len(pts); i += 2 {
		half = append(half, mergePoints(pts[i], pts[i+1], 1, 1))
	}
	if len(pts)%2 == 1 { // the odd one waits for its partner
		sr.acc, sr.accN = pts[len(pts)-1], sr.factor
	}
	sr.s.Points = half
	sr.factor *= 2
	sr.s.IntervalMs *= 2
}

// mergePoints joins a (covering wa samples) and the later b (wb samples):
// rates and ρ are averaged by weight, p99s, lateness, depths and in-flight
// keep the highest, p50 the weighted mean and workers the latest.
func mergePoints(a, b SeriesPoint, wa, wb int) SeriesPoint {
	fa, fb := float64(wa), float64(wb)
	avg := func(x, y float64) float64 { return (x*fa + y*fb) / (fa + fb) }
	m := SeriesPoint{
		T: b.T, Offered: avg(a.Offered, b.Offered), Sent: avg(a.Sent, b.Sent), Accepted: avg(a.Accepted, b.Accepted),
		Completed: avg(a.Completed, b.Completed), Shed: avg(a.Shed, b.Shed),
		E2EP50: avg(a.E2EP50, b.E2EP50), E2EP99: max(a.E2EP99, b.E2EP99),
		LatenessMax: max(a.LatenessMax, b.LatenessMax), InFlight: max(a.InFlight, b.InFlight),
	}
	for i := range b.Stages {
		sb := b.Stages[i]
		if i < len(a.Stages) {
			sa := a.Stages[i]
			sb = StagePoint{Ready: max(sa.Ready, sb.Ready), WaitP99: max(sa.WaitP99, sb.WaitP99),
				ServiceP99: max(sa.ServiceP99, sb.ServiceP99), Utilisation: avg(sa.Utilisation, sb.Utilisation),
				Workers: sb.Workers, BrokerUnacked: maxOf(sa.BrokerUnacked, sb.BrokerUnacked)}
		}
		m.Stages = append(m.Stages, sb)
	}
	m.Broker = mergeBroker(a.Broker, b.Broker)
	return m
}

// brokerUnacked is the management API's unacked count of the queue named
// (as declared), or nil when the API did not answer.
func brokerUnacked(side engine.BrokerSide, queue string) *int {
	if !side.Available {
		return nil
	}
	for _, q := range side.Queues {
		if q.Name == queue {
			n := q.Unacked
			return &n
		}
	}
	return nil
}

// merged combines two optional values (nil: unknown): the known one when
// the other is unknown, else merge of both.
func merged[T any](a, b *T, merge func(a, b *T) *T) *T {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return merge(a, b)
}

// maxOf is the higher of two optional counts (nil: unknown).
func maxOf(a, b *int) *int {
	return merged(a, b, func(a, b *int) *int {
		n := max(*a, *b)
		return &n
	})
}

// mergeBroker keeps the highest flow and blocked counts and every alarm
// of either point.
func mergeBroker(a, b *BrokerPoint) *BrokerPoint {
	return merged(a, b, func(a, b *BrokerPoint) *BrokerPoint {
		m := &BrokerPoint{Flow: max(a.Flow, b.Flow), Blocked: max(a.Blocked, b.Blocked), Alarms: slices.Clone(a.Alarms)}
		for _, al := range b.Alarms {
			if !slices.Contains(m.Alarms, al) {
				m.Alarms = append(m.Alarms, al)
			}
		}
		return m
	})
}

// mark records a fired action at t from the run's start.
func (sr *seriesRecorder) mark(t time.Duration, kind, text string) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	sr.s.Markers = append(sr.s.Markers, Marker{T: t.Seconds(), Kind: kind, Text: text})
}

// series returns a copy of the series so far.
func (sr *seriesRecorder) series() *Series {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	c := sr.s
	c.Points = append([]SeriesPoint{}, sr.s.Points...)
	c.Markers = append([]Marker{}, sr.s.Markers...)
	c.Phases = append([]PhaseSpan{}, sr.s.Phases...)
	c.Stages = append([]string{}, sr.s.Stages...)
	return &c
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
