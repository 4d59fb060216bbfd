#!/usr/bin/env bash
# product-cost.sh — what the product path costs per order, on each side.
# Runs `oms-sim --headless` at one fixed rate with each variant of flags in
# turn (K alternated rounds) and prints, per run and as medians: CPU µs per
# order of oms-sim and of RabbitMQ (whole run ÷ orders sent), the share of
# late sends (> 10 ms past their time) and the phase's bottleneck verdict.
# It answers "which part of the product path makes the broker (or oms-sim)
# work, and how much" (issue 10).
#
#   bench/product-cost.sh                               # 1000/s, 15 s, K=3, the variants below
#   RATE=1500 DURATION=20s K=5 bench/product-cost.sh
#   VARIANTS='default:|nostream:--events memory' bench/product-cost.sh
#   PIN=1 bench/product-cost.sh       # RabbitMQ on CPU 0, oms-sim on CPU 1 (lib.sh)
#
# A variant is LABEL:FLAGS; variants are separated by '|'. Leading NAME=VALUE
# words of FLAGS are set in oms-sim's environment instead ('gmp4:GOMAXPROCS=4
# --events memory'), and a leading @PATH runs another build of oms-sim
# ('before:@/tmp/oms-before|after:'), pinned like this one. Noise handling
# (QUIET) is lib.sh's: each run waits for the machine to be quiet first.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v jq >/dev/null || { echo "product-cost.sh needs jq" >&2; exit 2; }
[ -n "$RABBIT" ] || { echo "product-cost.sh needs a local RabbitMQ (its CPU is read from /proc)" >&2; exit 2; }
K=${K:-3}
RATE=${RATE:-1000}
DURATION=${DURATION:-15s}
DRIVER=${DRIVER:-http}
VARIANTS=${VARIANTS:-'default:|events memory:--events memory|events off:--events off|no management:--management-url off'}
IFS='|' read -r -a VS <<<"$VARIANTS"
go build -o "$BIN/oms-sim" .
pin_apart
pinned_bin oms-sim
cat >"$BIN/flat.yaml" <<YAML
name: flat
phases:
  - {name: warm-up, duration: 3s, rate: $((RATE / 2))/s}
  - {name: flat, duration: $DURATION, rate: $RATE/s}
YAML
RUNS=$BIN/runs.txt
echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K rate=$RATE/s duration=$DURATION driver=$DRIVER  pinned: $PINNED"
one() {
	local label=$1 flags=$2 ns="bench-pc-$$-$RANDOM" r0 r1 t0 t1 sent late
	local -a f e=() bin=("$BIN/oms-sim")
	read -r -a f <<<"$flags"
	if [ ${#f[@]} -gt 0 ] && [[ ${f[0]} == @* ]]; then
		bin=("${f[0]#@}"); f=("${f[@]:1}")
		[ "$PINNED" = no ] || bin=(taskset -c 1 "${bin[0]}")
	fi
	while [ ${#f[@]} -gt 0 ] && [[ ${f[0]} =~ ^[A-Z_][A-Z0-9_]*= ]]; do e+=("${f[0]}"); f=("${f[@]:1}"); done
	wait_quiet
	r0=$(ticks); t0=$(date +%s.%N)
	env "${e[@]}" /usr/bin/time -f '%U %S' -o "$BIN/time" "${bin[@]}" --scenario "$BIN/flat.yaml" --headless --driver "$DRIVER" \
		--namespace "$ns" --http 127.0.0.1:0 --report "$BIN/rep.json" "${f[@]}" >/dev/null 2>"$BIN/err" || true
	r1=$(ticks); t1=$(date +%s.%N)
	bench/cleanup-ns.sh "$ns." >/dev/null 2>&1 || true
	[ -s "$BIN/rep.json" ] || { echo "$label: no report ($(tail -1 "$BIN/err"))" >&2; return 0; }
	sent=$(jq '[.phases[].sent] | add' "$BIN/rep.json")
	late=$(jq '.phases[1] | 100 * .late_sends / (.sent + 1)' "$BIN/rep.json")
	read -r us_sim us_rabbit < <(awk -v s="$(awk '{print $1+$2}' "$BIN/time")" -v r="$((r1 - r0))" -v n="$sent" \
		'BEGIN{printf "%.0f %.0f\n", s*1e6/n, r/100*1e6/n}')
	printf '%-16s oms-sim %4s µs/order  rabbit %4s µs/order  late %5.1f%%  e2e p99 %6.0fms  limit %s\n' "$label" "$us_sim" "$us_rabbit" "$late" \
		"$(jq '.e2e.p99_ms // 0' "$BIN/rep.json")" "$(jq -r '.phases[1].limit.kind // "-"' "$BIN/rep.json")"
	echo "$label|$us_sim|$us_rabbit|$late" >>"$RUNS"
	rm -f "$BIN/rep.json"
}
for i in $(seq 1 "$K"); do
	if [ $((i % 2)) -eq 1 ]; then order=("${VS[@]}"); else order=(); for ((j = ${#VS[@]} - 1; j >= 0; j--)); do order+=("${VS[j]}"); done; fi
	for v in "${order[@]}"; do one "${v%%:*}" "${v#*:}"; done
done
col() { awk -F'|' -v l="$1" -v c="$2" '$1==l{print $c}' "$RUNS" | median | awk '{printf "%.1f", $1}'; }
echo "median (K=$K):"
for v in "${VS[@]}"; do
	l=${v%%:*}
	printf '  %-16s oms-sim %6s µs/order  rabbit %6s µs/order  late %5s%%\n' "$l" "$(col "$l" 2)" "$(col "$l" 3)" "$(col "$l" 4)"
done
