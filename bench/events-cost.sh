#!/usr/bin/env bash
# events-cost.sh — what does the event log cost the pipeline? Runs the same
# overload scenario headless with --events stream, memory and off, in turn,
# N rounds, and prints orders completed per second of wall time
# (accepted ÷ (load + drain)) and the stream's drop count.
# Usage: bench/events-cost.sh [N] [RATE] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3} rate=${2:-6000} dur=${3:-15s}
bin=$(mktemp -d /tmp/evcost.XXXXXX)
trap 'rm -rf "$bin"; bench/cleanup-ns.sh bench-ev-' EXIT
go build -o "$bin/oms-sim" .
cat >"$bin/s.yaml" <<YAML
name: overload
phases: [{name: flat-out, duration: $dur, rate: $rate/s}]
YAML
for i in $(seq "$n"); do
	for mode in stream memory off; do
		ns=bench-ev-$$-$i-$mode
		"$bin/oms-sim" --scenario "$bin/s.yaml" --driver publish --headless --http 127.0.0.1:0 \
			--events "$mode" --namespace "$ns" --drain-timeout 120s --report "$bin/r.json" >/dev/null 2>&1 || true
		python3 - "$mode" "$bin/r.json" <<'PY'
import json, sys
mode, path = sys.argv[1], sys.argv[2]
r = json.load(open(path)); wall = (r["duration_ms"] + r["drain_ms"]) / 1000
done = r["audit"]["accepted"] - r["audit"]["lost"]
ev = r.get("events", {})
print(f"{mode:<7} completed/s {done / wall:8.1f}  e2e p50 {r['e2e']['p50_ms']:8.1f}ms  lost {r['audit']['lost']}  events dropped {ev.get('dropped', 0)}")
PY
	done
done
