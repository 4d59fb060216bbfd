#!/usr/bin/env bash
# ab-product.sh BEFORE AFTER — alternate two builds of oms-sim itself (e.g.
# without and with a change to the product path) on the same overload: a
# flat phase of RATE orders/s (default 6000, above this machine's ceiling)
# for DUR seconds (default 20), publish driver, event log on the stream,
# defaults otherwise. Each run's achieved rate (accepted orders/s: the
# pipeline's drain rate plus the admission bound spread over the phase),
# stage throughput (messages handled ÷ 3, per second of load and drain),
# e2e p50/p99 and the process's CPU per accepted order; then medians.
#   git worktree add /tmp/before <rev> && (cd /tmp/before && go build -o /tmp/oms-before .)
#   go build -o /tmp/oms-after .
#   K=3 bench/ab-product.sh /tmp/oms-before /tmp/oms-after
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "ab-product.sh needs jq" >&2; exit 2; }
K=${K:-3}
RATE=${RATE:-6000}
DUR=${DUR:-20}
TMP=$(mktemp -d /tmp/abp.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/flat.yaml" <<EOF
name: ab-flat
seed: 1
stages:
  payment:   {workers: 4, prefetch: 300}
  inventory: {workers: 4, prefetch: 300}
  email:     {workers: 4, prefetch: 300}
catalog: {products: 100, stock: 1000000000}
phases: [{name: flat, duration: ${DUR}s, rate: ${RATE}/s}]
EOF
echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K rate=$RATE/s dur=${DUR}s"
one() {
	local label=$1 bin=$2 ns="bench-abp-$$-$RANDOM" rep="$TMP/rep.json"
	/usr/bin/time -f '%U %S' -o "$TMP/time" "$bin" --scenario "$TMP/flat.yaml" --headless --driver publish \
		--events stream --namespace "$ns" --http 127.0.0.1:0 --report "$rep" >/dev/null 2>"$TMP/err" || true
	bench/cleanup-ns.sh "$ns." >/dev/null 2>&1 || true
	[ -s "$rep" ] || { echo "$label: no report ($(tail -1 "$TMP/err"))" >&2; return 1; }
	local cpu
	cpu=$(awk '{print $1+$2}' "$TMP/time")
	jq -r --arg l "$label" --argjson cpu "$cpu" '
		(.phases[0]) as $p | ([.stages[].handled] | add) as $h | ((.duration_ms + .drain_ms) / 1000) as $s |
		"\($l) achieved \($p.achieved_rate | floor) stage_tput \(($h / 3 / $s) | floor) e2e_p50_ms \(.e2e.p50_ms) e2e_p99_ms \(.e2e.p99_ms) cpu_us_per_order \(($cpu * 1e6 / (.audit.accepted + 1)) | floor) lost \(.audit.lost) redone \(.audit.redone // 0)"' "$rep" | tee -a "$TMP/runs"
	rm -f "$rep"
}
for i in $(seq 1 "$K"); do
	if [ $((i % 2)) -eq 1 ]; then one before "$1"; one after "$2"; else one after "$2"; one before "$1"; fi
done
med() { awk -v l="$1" -v f="$2" '$1==l{for(i=2;i<NF;i++) if($i==f) print $(i+1)}' "$TMP/runs" | sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for f in achieved stage_tput e2e_p50_ms e2e_p99_ms cpu_us_per_order; do
	printf 'median %-18s before %10s  after %10s\n' "$f" "$(med before $f)" "$(med after $f)"
done
