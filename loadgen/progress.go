// Package loadgen drives load into the order pipeline: it replays scenario
// files (package scenario) with an open-model pacer (package pace) through
// a driver (HTTP or straight to the exchange), applies timed actions,
// drains, audits every order, and reports. Manual load (the dashboard's
// rate) is a pacer too, walked by the same send loop.
package loadgen

import "time"

// Run states.
const (
	StateIdle     = "idle"     // no scenario, no manual load
	StateRunning  = "running"  // sending
	StateDraining = "draining" // sending done, waiting for terminal statuses
	StateDone     = "done"     // audited; Report is set
)

// Progress is a copy of a run's live state, cheap to take several times a
// second (the dashboard polls it; headless prints it).
type Progress struct {
	State       string `json:"state"`
	Scenario    string `json:"scenario,omitempty"`
	Description string `json:"description,omitempty"`
	// Phase is the current phase's name, PhaseIndex its 0-based index of
	// Phases; PhaseDescription says what to watch (tour scenario).
	Phase            string        `json:"phase,omitempty"`
	PhaseIndex       int           `json:"phase_index"`
	Phases           int           `json:"phases"`
	PhaseDescription string        `json:"phase_description,omitempty"`
	PhaseElapsed     time.Duration `json:"phase_elapsed"`
	PhaseTotal       time.Duration `json:"phase_total"`
	Elapsed          time.Duration `json:"elapsed"`
	Total            time.Duration `json:"total"`
	// TargetRate is the offered rate now (orders/s); SentRate the sends
	// and AchievedRate the acceptances over the last second.
	TargetRate   float64 `json:"target_rate"`
	SentRate     float64 `json:"sent_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Sent         int64   `json:"sent"`
	Accepted     int64   `json:"accepted"`
	Failed       int64   `json:"failed"` // sends the API or broker refused (not shed)
	// Shed counts sends answered 503 reason backlog (after any retries);
	// Dropped arrivals that found every in-flight slot busy and were not
	// sent; Retries the resends.
	Shed      int64 `json:"shed"`
	Dropped   int64 `json:"dropped"`
	Retries   int64 `json:"retries"`
	LateSends int64 `json:"late_sends"`
	InFlight  int64 `json:"in_flight"` // sends awaiting an answer
	Paused    bool  `json:"paused"`
	// Manual is true for load started by hand (no scenario).
	Manual bool `json:"manual"`
	// Limit is what holds the load back now (judged once a second while
	// running): the generator or API, a stage, the broker, or none.
	Limit Limit `json:"limit"`
	// ReportText is the final report, set when State is StateDone.
	ReportText string `json:"report_text,omitempty"`
	Passed     bool   `json:"passed"`
}

// Controller steers the load generator from the dashboard.
type Controller interface {
	Progress() Progress
	// Pause stops sending: the schedule's clock runs on, and the arrivals
	// due while paused are skipped (counted skipped_paused), not sent
	// late on Resume, which continues with the arrivals due from then.
	Pause()
	Resume()
	// SetManualRate starts, changes or (with 0) stops hand-driven
	// constant-rate load when no scenario runs.
	SetManualRate(perSecond float64) error
}
