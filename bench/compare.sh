#!/usr/bin/env bash
# compare.sh — run bench/refpipe and bench/enginepipe alternately on the same
# broker; print each run, the medians and the ratio engine/refpipe.
#
#   bench/compare.sh                       # 3 pairs, 15 s each: --workers 2 --prefetch 300 --inflight 100
#   K=5 DURATION=20s bench/compare.sh
#   bench/compare.sh --workers 3 --prefetch 500        # flags for BOTH programs
#   ENGINE_FLAGS="--prefetch 100" bench/compare.sh     # extra flags for enginepipe only
#   REF_FLAGS="--rate 2500" ENGINE_FLAGS="--rate 2500" bench/compare.sh
#   OUT=/tmp/runs.jsonl bench/compare.sh               # also keep every run's JSON
#   BEFORE=/tmp/ep-before K=5 bench/compare.sh         # a third program: an older
#       enginepipe build, rotated with the other two; prints both ratios
#       (BEFORE may be a script: exec /tmp/ep --write-batch "$@")
#   PIN=1 K=5 bench/compare.sh             # pinned apart: RabbitMQ's threads on
#       CPU 0, the programs on CPU 1, so each side's CPU per order shows apart
#
# The order alternates within pairs (ref,engine / engine,ref / ...) so drift
# in the machine's load hits both alike. Noise handling (QUIET, NOISY,
# RETRIES) and the CPU columns are described in lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

K=${K:-3}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
COMMON=(--workers 2 --prefetch 300 --inflight 100)
if [ $# -gt 0 ]; then COMMON=("$@"); fi
read -r -a EXTRA_ENGINE <<<"${ENGINE_FLAGS:-}"
read -r -a EXTRA_REF <<<"${REF_FLAGS:-}"

go build -o "$BIN/refpipe" ./bench/refpipe
go build -o "$BIN/enginepipe" ./bench/enginepipe
[ -n "$OUT" ] || OUT=$BIN/runs.jsonl
pin_apart
pinned_bin refpipe
pinned_bin enginepipe

echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K duration=$DURATION warmup=$WARMUP  pinned: $PINNED"
echo "# both: ${COMMON[*]}   engine extra: ${EXTRA_ENGINE[*]:-}   refpipe extra: ${EXTRA_REF[*]:-}"
ref() { measure refpipe refpipe "${COMMON[@]}" "${EXTRA_REF[@]}" --warmup "$WARMUP" --duration "$DURATION"; }
eng() { measure enginepipe enginepipe "${COMMON[@]}" "${EXTRA_ENGINE[@]}" --warmup "$WARMUP" --duration "$DURATION"; }
if [ -n "${BEFORE:-}" ]; then
  cp "$BEFORE" "$BIN/before"
  pinned_bin before
  bef() { measure before before "${COMMON[@]}" "${EXTRA_ENGINE[@]}" --warmup "$WARMUP" --duration "$DURATION"; }
  echo "# before: $BEFORE"
  for i in $(seq 1 "$K"); do
    case $((i % 3)) in
      1) ref; bef; eng ;;
      2) eng; ref; bef ;;
      0) bef; eng; ref ;;
    esac
  done
else
  for i in $(seq 1 "$K"); do
    if [ $((i % 2)) -eq 1 ]; then ref; eng; else eng; ref; fi
  done
fi
r=$(medianof refpipe)
e=$(medianof enginepipe)
if [ -n "${BEFORE:-}" ]; then
  b=$(medianof before)
  echo "median completed/s  before $b  ratio before/refpipe $(awk -v e="$b" -v r="$r" 'BEGIN{printf "%.3f", (r>0 ? e/r : 0)}')"
fi
echo "median completed/s  refpipe $r  enginepipe $e  ratio engine/refpipe $(awk -v e="$e" -v r="$r" 'BEGIN{printf "%.3f", (r>0 ? e/r : 0)}')"
# CPU µs per completed order, medians per program (client = the program).
cpu() { jq -r --arg l "$1" --arg k "$2" 'select(.label==$l) | (.[$k] * 1e6 / .completed_per_s)' "$OUT" | median | awk '{printf "%.0f", $1}'; }
if command -v jq >/dev/null; then
  for l in refpipe enginepipe ${BEFORE:+before}; do
    printf 'median CPU µs/order  %-10s client %s  rabbit %s\n' "$l" "$(cpu "$l" client_cores)" "$(cpu "$l" rabbit_cores)"
  done
  echo "client CPU per order engine/refpipe $(awk -v e="$(cpu enginepipe client_cores)" -v r="$(cpu refpipe client_cores)" 'BEGIN{printf "%.3f", (r>0 ? e/r : 0)}')"
fi
