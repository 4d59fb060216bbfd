package loadgen

import (
	"encoding/json"
	"math"
	"testing"
)

func TestThresholdResultNaNIsNull(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Report{Thresholds: []ThresholdResult{{Metric: "e2e_p99", Observed: math.NaN(), Display: "not measured"}, {Metric: "lost_orders", Observed: 2}}})
	if err != nil {
		t.Fatalf("a report with an unmeasured threshold did not encode: %v", err)
	}
	var back struct {
		Thresholds []map[string]any `json:"thresholds"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back.Thresholds[0]["observed"]; !ok || v != nil {
		t.Errorf("NaN observed encoded as %v (present %v), want null", v, ok)
	}
	if back.Thresholds[0]["observed_display"] != "not measured" || back.Thresholds[1]["observed"] != 2.0 {
		t.Errorf("other fields lost: %v", back.Thresholds)
	}
}
