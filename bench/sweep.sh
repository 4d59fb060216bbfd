#!/usr/bin/env bash
# sweep.sh — enginepipe over a grid of workers × prefetch, N runs per point
# (interleaved: the whole grid once, then again), with the medians.
#
#   bench/sweep.sh                                  # workers 1 2 3 4 × prefetch 50 100 300 1000, N=1, 10 s
#   WORKERS="2 3" PREFETCH="100 300" N=3 bench/sweep.sh
#   EXTRA="--rate 2000" bench/sweep.sh              # more enginepipe flags
#   BASELINE=1 bench/sweep.sh                       # also refpipe (its defaults) once per pass
#
# Noise handling (QUIET, NOISY, RETRIES, OUT) as in lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

WORKERS=${WORKERS:-1 2 3 4}
PREFETCH=${PREFETCH:-50 100 300 1000}
N=${N:-1}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
read -r -a EXTRA <<<"${EXTRA:-}"

go build -o "$BIN/enginepipe" ./bench/enginepipe
BASELINE=${BASELINE:-0}
[ "$BASELINE" = 1 ] && go build -o "$BIN/refpipe" ./bench/refpipe
echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  N=$N duration=$DURATION warmup=$WARMUP extra: ${EXTRA[*]:-}"
for _ in $(seq 1 "$N"); do
  if [ "$BASELINE" = 1 ]; then measure refpipe refpipe --warmup "$WARMUP" --duration "$DURATION"; fi
  for w in $WORKERS; do
    for p in $PREFETCH; do
      measure "w=$w,p=$p" enginepipe --workers "$w" --prefetch "$p" "${EXTRA[@]}" --warmup "$WARMUP" --duration "$DURATION"
    done
  done
done
echo "# medians (completed/s)"
if [ "$BASELINE" = 1 ]; then echo "refpipe     $(medianof refpipe)"; fi
for w in $WORKERS; do
  for p in $PREFETCH; do printf 'w=%s,p=%-5s %s\n' "$w" "$p" "$(medianof "w=$w,p=$p")"; done
done
