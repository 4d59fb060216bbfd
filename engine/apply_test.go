package engine

import (
	"strings"
	"testing"
	"time"
)

// TestStageConfigApply checks the one set of knob rules: a valid patch
// is applied, an invalid one leaves the knobs as they were and says every
// problem.
func TestStageConfigApply(t *testing.T) {
	t.Parallel()
	def := DefaultStageConfig()
	cases := []struct {
		name  string
		stage string
		p     StagePatch
		want  StageConfig // when valid
		errs  []string    // when not
	}{
		{"workers", StageInventory, StagePatch{Workers: ptr(8)}, StageConfig{Workers: 8, Prefetch: DefaultPrefetch, ServiceTime: Constant(0)}, nil},
		{"decline on payment", StagePayment, StagePatch{DeclineRate: ptr(0.5)}, StageConfig{Workers: DefaultWorkers, Prefetch: DefaultPrefetch, ServiceTime: Constant(0), DeclineRate: 0.5}, nil},
		{"no decline is fine anywhere", StageEmail, StagePatch{DeclineRate: ptr(0.0)}, def, nil},
		{"workers above the limit", StagePayment, StagePatch{Workers: ptr(MaxWorkers + 1)}, def, []string{"workers must be 0..1000, got 1001"}},
		{"in flight above the limit", StagePayment, StagePatch{Workers: ptr(1000), Prefetch: ptr(1000)}, def, []string{"workers × prefetch must be at most 100000"}},
		{"decline elsewhere", StageInventory, StagePatch{DeclineRate: ptr(0.1)}, def, []string{"decline_rate applies to the payment stage only"}},
		{"service time too long", StageEmail, StagePatch{ServiceTime: ptr(Constant(2 * time.Hour))}, def, []string{"service_time: 2h0m0s is longer than the maximum of 1h0m0s"}},
		{"every problem at once", StageEmail, StagePatch{Prefetch: ptr(0), ErrorRate: ptr(2.0), DeclineRate: ptr(0.1)}, def,
			[]string{"decline_rate applies", "prefetch must be 1..65535", "error_rate must be 0..1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := def.Apply(tc.stage, tc.p)
			if tc.errs == nil {
				if err != nil || got != tc.want {
					t.Errorf("Apply = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if got != def {
				t.Errorf("a refused patch changed the knobs to %+v", got)
			}
			for _, w := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want it to say %q", err, w)
				}
			}
		})
	}
}
