package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"oms-sim/engine"
	"oms-sim/loadgen"
)

// Source is what the dashboard reads: the engine (engine.Reader has all
// three methods) or a fake in tests. Every call happens inside a tea.Cmd,
// never in Update or View.
type Source interface {
	Snapshot() engine.Snapshot
	Orders(q engine.OrderQuery) ([]engine.OrderRecord, int)
	Order(id string) (engine.OrderRecord, bool)
}

var _ Source = (engine.Reader)(nil)

// DefaultRefreshInterval is how often the dashboard polls (4 Hz).
const DefaultRefreshInterval = 250 * time.Millisecond

// DefaultFaultDuration is how long an injected payment outage lasts.
const DefaultFaultDuration = 10 * time.Second

// controlSource names the dashboard in the engine's change log.
const controlSource = "dashboard"

// Options configure the dashboard.
type Options struct {
	// ScenarioName is the scenario being run, if any; with one, manual
	// load keys are off.
	ScenarioName string
	// NoColor draws without colour (NO_COLOR).
	NoColor bool
	// RefreshInterval is the polling period; 0 means
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// FaultDuration is how long the outage key lasts; 0 means
	// DefaultFaultDuration.
	FaultDuration time.Duration
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.FaultDuration <= 0 {
		o.FaultDuration = DefaultFaultDuration
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// tickMsg asks for the next poll.
type tickMsg struct{}

// fetchReq says what one poll reads, decided in Update from the model's
// state so the fetch itself needs nothing from the model.
type fetchReq struct {
	seq uint64
	// chain marks the periodic poll: its answer schedules the next tick,
	// so at most one periodic poll is ever in flight.
	chain bool
	// trace: a live page of the newest orders matching filter, or the
	// listed ids refreshed in place (a frozen page).
	filter   []engine.Status
	traceGen uint64
	live     bool
	limit    int
	offset   int
	ids      []string
	// orderID is the order whose timeline is open.
	orderID string
}

// dataMsg is one poll's answer.
type dataMsg struct {
	req      fetchReq
	snap     engine.Snapshot
	progress *loadgen.Progress
	orders   []engine.OrderRecord
	total    int
	order    engine.OrderRecord
	orderOK  bool
}

// fetchCmd reads everything req asks for.
func fetchCmd(src Source, load loadgen.Controller, req fetchReq) tea.Cmd {
	return func() tea.Msg {
		d := dataMsg{req: req, snap: src.Snapshot()}
		if load != nil {
			p := load.Progress()
			d.progress = &p
		}
		switch {
		case req.live || req.offset > 0:
			d.orders, d.total = src.Orders(engine.OrderQuery{Status: req.filter, Limit: req.limit, Offset: req.offset, Events: true})
		case len(req.ids) > 0:
			d.orders = make([]engine.OrderRecord, 0, len(req.ids))
			for _, id := range req.ids {
				if r, ok := src.Order(id); ok {
					d.orders = append(d.orders, r)
				}
			}
		}
		if req.orderID != "" {
			d.order, d.orderOK = src.Order(req.orderID)
		}
		return d
	}
}

// tickCmd waits one refresh interval.
func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}
