package engine

import (
	"errors"
	"fmt"
)

// StageConfig holds a stage's knobs. All of them can change at run time.
type StageConfig struct {
	// Workers is the number of goroutines, each with its own channel and
	// consumer.
	Workers int `json:"workers"`
	// Prefetch is the per-worker limit of unacknowledged deliveries; it is
	// also how many messages a worker keeps in flight awaiting confirms.
	Prefetch int `json:"prefetch"`
	// ServiceTime is the simulated work per message.
	ServiceTime Dist `json:"service_time"`
	// ErrorRate is the probability of a transient error, retried.
	ErrorRate float64 `json:"error_rate"`
	// DeclineRate (payment only) is the probability a payment is declined.
	DeclineRate float64 `json:"decline_rate"`
}

// Apply returns c with p's knobs set, or c unchanged and every problem
// with the result (ValidateFor) when it is not valid for stage. It is the
// one place the knobs' rules live: the engine's stages, PATCH
// /api/stages/{name} and the dashboard's keys (UpdateStage), and a
// scenario's validator go through it; a configuration built from a
// scenario and flags is held to the same rules by New (Config.Validate).
func (c StageConfig) Apply(stage string, p StagePatch) (StageConfig, error) {
	n := c.With(p)
	if err := n.ValidateFor(stage); err != nil {
		return c, err
	}
	return n, nil
}

// With returns c with p's knobs set, unchecked.
func (c StageConfig) With(p StagePatch) StageConfig {
	if p.Workers != nil {
		c.Workers = *p.Workers
	}
	if p.Prefetch != nil {
		c.Prefetch = *p.Prefetch
	}
	if p.ServiceTime != nil {
		c.ServiceTime = *p.ServiceTime
	}
	if p.ErrorRate != nil {
		c.ErrorRate = *p.ErrorRate
	}
	if p.DeclineRate != nil {
		c.DeclineRate = *p.DeclineRate
	}
	return c
}

// DeclineStage is the one stage a decline rate applies to.
const DeclineStage = StagePayment

// ValidateFor reports every problem with the knobs as stage's: Validate's,
// and a decline rate on a stage other than DeclineStage.
func (c StageConfig) ValidateFor(stage string) error {
	err := c.Validate()
	if stage != DeclineStage && c.DeclineRate != 0 {
		err = errors.Join(fmt.Errorf("decline_rate applies to the %s stage only", DeclineStage), err)
	}
	return err
}

// Validate reports every problem with the knobs, against the limits of
// limits.go.
func (c StageConfig) Validate() error {
	var errs []error
	if c.Workers < 0 || c.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("workers must be 0..%d, got %d", MaxWorkers, c.Workers))
	}
	if c.Prefetch < 1 || c.Prefetch > MaxPrefetch {
		errs = append(errs, fmt.Errorf("prefetch must be 1..%d, got %d", MaxPrefetch, c.Prefetch))
	} else if c.Workers*c.Prefetch > MaxStageInFlight {
		errs = append(errs, fmt.Errorf("workers × prefetch must be at most %d (the unacknowledged messages a stage may hold), got %d × %d = %d", MaxStageInFlight, c.Workers, c.Prefetch, c.Workers*c.Prefetch))
	}
	if err := c.ServiceTime.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("service_time: %w", err))
	} else if d := c.ServiceTime.longest(); d > MaxServiceTime {
		errs = append(errs, fmt.Errorf("service_time: %v is longer than the maximum of %v", d, MaxServiceTime))
	}
	if c.ErrorRate < 0 || c.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("error_rate must be 0..1, got %g", c.ErrorRate))
	}
	if c.DeclineRate < 0 || c.DeclineRate > 1 {
		errs = append(errs, fmt.Errorf("decline_rate must be 0..1, got %g", c.DeclineRate))
	}
	return errors.Join(errs...)
}

// DefaultStageConfig is what every stage starts with: no simulated work,
// so out of the box the pipeline runs as fast as the broker allows.
func DefaultStageConfig() StageConfig {
	return StageConfig{Workers: DefaultWorkers, Prefetch: DefaultPrefetch, ServiceTime: Constant(0)}
}

// StagePatch changes some of a stage's knobs; nil fields stay as they are.
type StagePatch struct {
	Workers     *int     `json:"workers,omitempty"`
	Prefetch    *int     `json:"prefetch,omitempty"`
	ServiceTime *Dist    `json:"service_time,omitempty"`
	ErrorRate   *float64 `json:"error_rate,omitempty"`
	DeclineRate *float64 `json:"decline_rate,omitempty"`
}

func describeChanges(name string, a, b StageConfig) []string {
	var out []string
	if a.Workers != b.Workers {
		out = append(out, fmt.Sprintf("%s workers %d → %d", name, a.Workers, b.Workers))
	}
	if a.Prefetch != b.Prefetch {
		out = append(out, fmt.Sprintf("%s prefetch %d → %d", name, a.Prefetch, b.Prefetch))
	}
	if a.ServiceTime != b.ServiceTime {
		out = append(out, fmt.Sprintf("%s service time %v → %v", name, a.ServiceTime, b.ServiceTime))
	}
	if a.ErrorRate != b.ErrorRate {
		out = append(out, fmt.Sprintf("%s error rate %g → %g", name, a.ErrorRate, b.ErrorRate))
	}
	if a.DeclineRate != b.DeclineRate {
		out = append(out, fmt.Sprintf("%s decline rate %g → %g", name, a.DeclineRate, b.DeclineRate))
	}
	return out
}
