# overload.sh — shared by events-cost.sh and tui-cost.sh (source it; not a
# command). overload_setup BIN RATE DURATION builds oms-sim into BIN and
# writes BIN/s.yaml, a scenario offering more than the pipeline carries,
# so what completes is the pipeline's ceiling. completed LABEL REPORT
# [EXTRA] prints orders completed per second of wall time
# (accepted − lost) ÷ (load + drain), the e2e p50, and EXTRA.

overload_setup() {
	go build -o "$1/oms-sim" .
	printf 'name: overload\nphases: [{name: flat-out, duration: %s, rate: %s/s}]\n' "$3" "$2" >"$1/s.yaml"
}

completed() {
	python3 - "$@" <<'PY'
import json, sys
label, path, extra = sys.argv[1], sys.argv[2], " ".join(sys.argv[3:])
r = json.load(open(path)); wall = (r["duration_ms"] + r["drain_ms"]) / 1000
done = r["audit"]["accepted"] - r["audit"]["lost"]
print(f"{label:<9} completed/s {done / wall:8.1f}  e2e p50 {r['e2e']['p50_ms']:8.1f}ms  lost {r['audit']['lost']}  {extra}")
PY
}
