package loadgen

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

// TestSeriesCarriesTheBrokerSide: with the management API answering, each
// point has the broker's unacked per stage queue and this process's
// connections in flow or blocked, with the alarms; merged points keep the
// highest and every alarm; without the API the fields are absent.
func TestSeriesCarriesTheBrokerSide(t *testing.T) {
	t.Parallel()
	sr := newSeriesRecorder([]string{"payment", "inventory"}, nil)
	snap := engine.Snapshot{
		Stages: []engine.StageSnapshot{{Name: "payment", Queue: engine.QueueSnapshot{Name: "ns.oms.payment", Unacked: 3}},
			{Name: "inventory", Queue: engine.QueueSnapshot{Name: "ns.oms.inventory"}}},
	}
	snap.Broker.Side = engine.BrokerSide{Available: true, Flow: 1, Queues: []engine.BrokerQueue{
		{Name: "ns.oms.payment", Unacked: 40}, {Name: "ns.oms.inventory", Unacked: 2}}}
	sr.sample(time.Second, seriesTotals{}, 0, 0, snap)
	snap.Broker.Side.Queues[0].Unacked, snap.Broker.Side.Flow, snap.Broker.Side.Blocked = 10, 0, 2
	snap.Broker.Nodes.Alarms = []string{"memory on rabbit@a"}
	sr.sample(2*time.Second, seriesTotals{}, 0, 0, snap)
	snap.Broker.Side = engine.BrokerSide{Note: "management API unreachable"}
	sr.sample(3*time.Second, seriesTotals{}, 0, 0, snap)
	s := sr.series()
	if len(s.Points) != 3 {
		t.Fatalf("%d points", len(s.Points))
	}
	p := s.Points
	if u := p[0].Stages[0].BrokerUnacked; u == nil || *u != 40 {
		t.Errorf("payment's broker unacked at 1 s: %v, want 40", u)
	}
	if b := p[1].Broker; b == nil || b.Flow != 0 || b.Blocked != 2 || !reflect.DeepEqual(b.Alarms, []string{"memory on rabbit@a"}) {
		t.Errorf("broker at 2 s: %+v, want blocked 2 and the memory alarm", b)
	}
	if p[2].Broker != nil || p[2].Stages[0].BrokerUnacked != nil {
		t.Errorf("without the management API: %+v %+v, want no broker figures", p[2].Broker, p[2].Stages[0])
	}
	raw, err := json.Marshal(p[2])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "broker") {
		t.Errorf("a point without the management API writes %s", raw)
	}
	m := mergePoints(p[0], p[1], 1, 1)
	if u := m.Stages[0].BrokerUnacked; u == nil || *u != 40 || m.Broker.Flow != 1 || m.Broker.Blocked != 2 || len(m.Broker.Alarms) != 1 {
		t.Errorf("merged: unacked %v, broker %+v; want the highest of each and the alarm", u, m.Broker)
	}
	if m := mergePoints(p[1], p[2], 1, 1); m.Broker == nil || m.Stages[0].BrokerUnacked == nil || *m.Stages[0].BrokerUnacked != 10 {
		t.Errorf("merged with a point without figures: %+v, want the known ones kept", m)
	}
}
