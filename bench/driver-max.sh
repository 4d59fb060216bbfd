#!/usr/bin/env bash
# driver-max.sh — the highest rate each load driver sustains here: for each
# driver (http: POST /api/orders on the in-process API; publish: straight to
# the exchange with confirms) and rate, a constant-rate run; printed are
# accepted ÷ offered (the achieved/target ratio), late sends and the p99 of
# send lateness. The stages get 4 workers each so the pipeline is not what
# gives way first. Usage: bench/driver-max.sh [DURATION] [RATE...]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
shift || true
rates=(1000 2000 3000 4000 6000)
[ $# -gt 0 ] && rates=("$@")
bin=$(mktemp -d /tmp/drvmax.XXXXXX)
trap 'rm -rf "$bin"; bench/cleanup-ns.sh bench-drv-' EXIT
go build -o "$bin/oms-sim" .
printf '%-8s %6s %10s %8s %6s %12s\n' driver rate accepted/s ratio late "late p99 ms"
for driver in http publish; do
	for rate in "${rates[@]}"; do
		printf 'name: max\nphases: [{duration: %s, rate: %s/s}]\n' "$dur" "$rate" >"$bin/s.yaml"
		"$bin/oms-sim" --scenario "$bin/s.yaml" --driver "$driver" --headless --http 127.0.0.1:0 --events memory \
			--namespace "bench-drv-$$" --payment-workers 4 --inventory-workers 4 --email-workers 4 \
			--drain-timeout 120s --report "$bin/r.json" >/dev/null 2>&1 || true
		python3 - "$driver" "$rate" "$bin/r.json" <<'PY'
import json, sys
d, rate, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
r = json.load(open(path)); p = r["phases"][0]
print(f'{d:<8} {rate:6.0f} {p["achieved_rate"]:10.1f} {p["achieved_ratio"]:8.4f} {p["late_sends"]:6d} {r["send_lateness"]["p99_ms"]:12.2f}')
PY
	done
done
