#!/usr/bin/env bash
# tui-cost.sh — what does the dashboard cost the pipeline? Runs the same
# overload scenario (more offered than the pipeline carries, so throughput
# is the pipeline's ceiling) with the dashboard in a real terminal (tmux,
# 140x45) and --headless, alternately, N times each, and prints the orders
# completed per second of wall time (accepted ÷ (load + drain)) and the
# process's CPU seconds. Usage: bench/tui-cost.sh [N] [RATE] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3} rate=${2:-6000} dur=${3:-15s}
bin=$(mktemp -d /tmp/tuicost.XXXXXX)
trap 'tmux kill-session -t tuicost 2>/dev/null || true; rm -rf "$bin"; bench/cleanup-ns.sh bench-tui-' EXIT
. bench/overload.sh
overload_setup "$bin" "$rate" "$dur"
common=(--scenario "$bin/s.yaml" --driver publish --http 127.0.0.1:0 --events memory --drain-timeout 120s)

for i in $(seq "$n"); do
	ns=bench-tui-$$-$i
	/usr/bin/time -f '%U %S' -o "$bin/th" "$bin/oms-sim" "${common[@]}" --headless --namespace "$ns-h" --report "$bin/h.json" >/dev/null 2>&1 || true
	completed headless "$bin/h.json" "cpu $(awk '{print $1+$2}' "$bin/th")s"
	tmux new-session -d -s tuicost -x 140 -y 45 \
		"/usr/bin/time -f '%U %S' -o $bin/tt $bin/oms-sim ${common[*]} --namespace $ns-t --report $bin/t.json --log-file $bin/log; sleep 30"
	for _ in $(seq 600); do tmux capture-pane -p -t tuicost | grep 'RESULT' >/dev/null && break; sleep 0.5; done
	tmux send-keys -t tuicost q
	for _ in $(seq 100); do [ -s "$bin/t.json" ] && [ -s "$bin/tt" ] && break; sleep 0.2; done
	tmux kill-session -t tuicost
	completed dashboard "$bin/t.json" "cpu $(awk '{print $1+$2}' "$bin/tt")s"
	rm -f "$bin/t.json" "$bin/tt"
done
