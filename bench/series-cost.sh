#!/usr/bin/env bash
# series-cost.sh — what recording the per-second series costs at maximum
# throughput (issue 16): the same run with --series (default) and with
# --series=false, alternating, ROUNDS times each. A run offers RATE/s (more
# than this pipeline takes on a small host: zero service time, publish
# driver) for DUR seconds on the real RabbitMQ. Per run: orders accepted
# per second of load, e2e p99, and oms-sim's CPU (user + system, whole
# process) per 1000 accepted orders; then the medians of each side.
#
#   bench/series-cost.sh                 ROUNDS=3 DUR=30 RATE=4000
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-30}
RATE=${RATE:-4000}
work=$(mktemp -d /tmp/series-cost.XXXXXX)
ns=series-cost-$$
trap 'rm -rf "$work"; bench/cleanup-ns.sh "$ns" >/dev/null 2>&1 || true' EXIT
go build -o "$work/oms-sim" .
cat >"$work/max.yaml" <<YAML
name: series-cost
description: ${RATE}/s for ${DUR}s, zero service time.
seed: 1
stages:
  payment:   {workers: 4, prefetch: 200}
  inventory: {workers: 4, prefetch: 200}
  email:     {workers: 4, prefetch: 200}
phases:
  - {name: max, duration: ${DUR}s, rate: ${RATE}/s}
YAML
: >"$work/rows"
for i in $(seq 1 "$ROUNDS"); do
	for series in true false; do
		/usr/bin/time -f '%U %S' -o "$work/time" "$work/oms-sim" --scenario "$work/max.yaml" --headless --broker rabbitmq \
			--events off --driver publish --namespace "$ns" --http 127.0.0.1:0 --series="$series" \
			--drain-timeout 120s --report "$work/r.json" >/dev/null 2>"$work/err" || true
		python3 - "$series" "$work/r.json" "$work/time" <<'PY' | tee -a "$work/rows"
import json, sys
series, rep, tm = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read().split()
cpu = float(tm[-2]) + float(tm[-1])
acc = rep["audit"]["accepted"]
rate = acc / (rep["duration_ms"] / 1000)
points = len((rep.get("series") or {}).get("points", []))
print(f"series={series:5} accepted/s {rate:7.0f}  e2e p99 {rep['e2e']['p99_ms']:8.1f} ms  cpu {cpu:6.2f} s  cpu/1000 orders {cpu / acc * 1000:6.3f} s  points {points}")
PY
	done
done
python3 - "$work/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for side in ("true", "false"):
    r = [x for x in rows if x[0] == f"series={side}"]
    med = lambda i: statistics.median(float(x[i]) for x in r)
    print(f"median series={side:5}: accepted/s {med(2):.0f}, e2e p99 {med(5):.1f} ms, cpu/1000 orders {med(12):.3f} s ({len(r)} runs)")
PY
