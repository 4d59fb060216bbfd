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
. bench/overload.sh
overload_setup "$bin" "$rate" "$dur"
for i in $(seq "$n"); do
	for mode in stream memory off; do
		ns=bench-ev-$$-$i-$mode
		"$bin/oms-sim" --scenario "$bin/s.yaml" --driver publish --headless --http 127.0.0.1:0 \
			--events "$mode" --namespace "$ns" --drain-timeout 120s --report "$bin/r.json" >/dev/null 2>&1 || true
		dropped=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("events", {}).get("dropped", 0))' "$bin/r.json")
		completed "$mode" "$bin/r.json" "events dropped $dropped"
	done
done
