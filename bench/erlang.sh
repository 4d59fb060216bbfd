#!/usr/bin/env bash
# erlang.sh [SECONDS] [RHOS] — Erlang C's predicted mean queue wait against
# the measured one, for payment as an M/M/c queue (c = 2 workers, mean
# service ~10 ms), across offered loads ρ (default 0.5 0.7 0.9 0.95) and
# four variants: exponential service with prefetch 10 (the model's own
# case but for prefetch), with prefetch 1, constant service, lognormal
# service (median 7 ms, p99 40 ms; mean ~9.3 ms). Each case is a headless
# run of one phase of SECONDS (default 25) of Poisson arrivals at
# ρ × 2 ÷ mean service; /api/stages/payment is sampled once a second after
# the first 8 s, and the medians of the samples are printed: ρ (offered,
# from the measured rates), the engine's prediction (predicted.wait_ns,
# from λ, the recent mean service time and the workers), the measured
# recent mean queue wait, their ratio, and Little's law (waiting ÷ λW).
# BROKER=embedded uses the embedded broker (default rabbitmq).
set -euo pipefail
SECONDS_PER=${1:-25}
RHOS=${2:-0.5 0.7 0.9 0.95}
BROKER=${BROKER:-rabbitmq}
cd "$(dirname "$0")/.."
BIN=$(mktemp -d /tmp/erlang.XXXXXX)
NS=bench-erlang-$$
trap 'rm -rf "$BIN"; bash bench/cleanup-ns.sh "$NS" >/dev/null 2>&1 || true' EXIT
go build -o "$BIN/oms-sim" .

run_case() {
	local label=$1 dist=$2 mean_ms=$3 prefetch=$4 rho=$5 port=5291 rate pid
	rate=$(awk -v r="$rho" -v m="$mean_ms" 'BEGIN{printf "%.0f", r*2*1000/m}')
	cat >"$BIN/s.yaml" <<YAML
name: erlang-$label-$rho
seed: 7
stages:
  payment:   {workers: 2, prefetch: $prefetch, service_time: $dist, decline_rate: 0}
  inventory: {workers: 2}
  email:     {workers: 2}
catalog: {products: 20, stock: 10000000}
phases: [{name: steady, duration: ${SECONDS_PER}s, rate: $rate/s, arrivals: poisson}]
YAML
	"$BIN/oms-sim" --scenario "$BIN/s.yaml" --headless --broker "$BROKER" --namespace "$NS" --http "127.0.0.1:$port" \
		--driver publish --events memory >"$BIN/run.log" 2>&1 &
	pid=$!
	: >"$BIN/samples"
	local t=0
	while kill -0 "$pid" 2>/dev/null && ((t < SECONDS_PER)); do
		sleep 1
		t=$((t + 1))
		((t > 8)) || continue
		curl -fsS "http://127.0.0.1:$port/api/stages/payment" 2>/dev/null >>"$BIN/samples" && echo >>"$BIN/samples" || true
	done
	wait "$pid" || { echo "$label ρ $rho: run failed" >&2; tail -5 "$BIN/run.log" >&2; }
	python3 - "$label" "$rho" "$rate" "$BIN/samples" <<'PY'
import json, statistics, sys
label, rho, rate, path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
pred, meas, rhos, little = [], [], [], []
text, dec, i, docs = open(path).read(), json.JSONDecoder(), 0, []
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    doc, i = dec.raw_decode(text, i)
    docs.append(doc)
for s in docs:
    p = s.get("predicted")
    qw = s.get("queue_wait_recent", {})
    if not p or not p.get("stable") or not qw.get("count"):
        if p:
            rhos.append(p["rho"])
        continue
    rhos.append(p["rho"])
    pred.append(p["wait_ns"] / 1e6)
    meas.append(qw["mean"] / 1e6)
    if s.get("little") and s["little"]["rate_x_wait"] > 0:
        little.append(s["little"]["ratio"])
med = lambda v: statistics.median(v) if v else float("nan")
p, m = med(pred), med(meas)
print(f"{label:<22} ρ target {rho:4.2f}  rate {rate:>4}/s  ρ measured {med(rhos):4.2f}  predicted {p:7.2f} ms  measured {m:7.2f} ms  measured÷predicted {m/p if p else float('nan'):5.2f}  Little L÷λW {med(little):4.2f}  samples {len(pred)}")
PY
}

echo "payment: 2 workers; $SECONDS_PER s of Poisson arrivals per case; broker $BROKER; medians of 1 s samples after 8 s"
for rho in $RHOS; do
	run_case "exponential/prefetch10" "{dist: exponential, mean: 10ms}" 10 10 "$rho"
	run_case "exponential/prefetch1" "{dist: exponential, mean: 10ms}" 10 1 "$rho"
	run_case "constant/prefetch10" "{dist: constant, value: 10ms}" 10 10 "$rho"
	run_case "lognormal/prefetch10" "{dist: lognormal, median: 7ms, p99: 40ms}" 9.3 10 "$rho"
done
