#!/usr/bin/env bash
# capacity-vs-sweep.sh — does `oms-sim capacity` land where a hand sweep
# does? It runs the capacity finder, then a hand sweep with the main
# command: one constant-rate scenario per rate (the same probe length,
# stages and SLO as a threshold, plus achieved_rate_ratio ≥ 0.98), at
# fractions of the knee found. The sweep's knee is the highest rate whose
# run passed; the script prints both and their ratio.
# Usage: bench/capacity-vs-sweep.sh [PROBE] [SLO_MS]
#   FLAGS="--payment-workers 1 --payment-service-time 5ms" (the default) sets the stages.
set -euo pipefail
cd "$(dirname "$0")/.."
probe=${1:-20s}
slo_ms=${2:-500}
flags=${FLAGS:---payment-workers 1 --payment-service-time 5ms}
bin=$(mktemp -d /tmp/capsweep.XXXXXX)
trap 'rm -rf "$bin"; bench/cleanup-ns.sh bench-cap-' EXIT
go build -o "$bin/oms-sim" .
common=(--http 127.0.0.1:0 --events memory --namespace "bench-cap-$$" --drain-timeout 120s)

echo "== oms-sim capacity --slo e2e_p99<${slo_ms}ms --probe $probe $flags"
# shellcheck disable=SC2086
"$bin/oms-sim" capacity "${common[@]}" $flags --slo "e2e_p99<${slo_ms}ms" --probe "$probe" \
	--start-rate 50/s --max-time 10m --report "$bin/cap.json" 2>/dev/null | sed -n '/CAPACITY CURVE/,$p'
knee=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["knee"] if r["knee_found"] else 0)' "$bin/cap.json")
[ "$knee" = 0 ] && { echo "capacity found no knee"; exit 1; }

echo "== hand sweep: oms-sim --scenario (one $probe phase) --headless, threshold e2e_p99 ≤ ${slo_ms}ms"
printf '%8s %10s %8s %8s %s\n' rate achieved/s ratio p99ms passed
best=0
for f in 0.80 0.85 0.90 0.95 1.00 1.05 1.10 1.15 1.20; do
	rate=$(python3 -c "print(round($knee*$f))")
	cat >"$bin/s.yaml" <<YAML
name: sweep
catalog: {stock: 1000000000}
phases: [{duration: $probe, rate: $rate/s}]
thresholds:
  - {metric: e2e_p99, max: ${slo_ms}ms}
  - {metric: achieved_rate_ratio, min: 0.98}
YAML
	# shellcheck disable=SC2086
	"$bin/oms-sim" --scenario "$bin/s.yaml" --headless "${common[@]}" $flags --report "$bin/r.json" >/dev/null 2>&1 || true
	ok=$(python3 - "$rate" "$bin/r.json" <<'PY'
import json, sys
rate, r = sys.argv[1], json.load(open(sys.argv[2])); p = r["phases"][0]
print(f'{float(rate):8.0f} {p["achieved_rate"]:10.1f} {p["achieved_ratio"]:8.4f} {r["e2e"]["p99_ms"]:8.0f} {r["passed"]}', file=sys.stderr)
print(1 if r["passed"] else 0)
PY
)
	[ "$ok" = 1 ] && best=$rate
done
python3 -c "k,s=$knee,$best; print(f'capacity knee {k:.0f}/s, hand sweep {s}/s: ratio {k/s:.3f}' if s else 'the hand sweep passed no rate')"
