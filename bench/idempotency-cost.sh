#!/usr/bin/env bash
# idempotency-cost.sh — what Idempotency-Key costs the order API: runs
# bench/httpaccept (the engine in-process on RabbitMQ, the whole pipeline,
# --conns closed-loop keep-alive clients) alternately without and with a key
# on every POST, and prints each run, the medians of accepted/s and POST p99,
# and the ratio keys/no-keys.
#
#   bench/idempotency-cost.sh                 # K=4 pairs, 15 s each, 32 conns
#   K=6 DURATION=20s CONNS=64 bench/idempotency-cost.sh
#   PIN=1 bench/idempotency-cost.sh           # httpaccept on CPU 1, RabbitMQ on CPU 0
#
# With PIN=1 the client's own cost shows apart from the broker's: compare
# the "CPU µs/order: client" columns.
# Noise handling and the CPU columns are lib.sh's (completed/s there is the
# pipeline's rate; accepted/s, the API's, is what this script compares).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v jq >/dev/null || { echo "idempotency-cost.sh needs jq (apt-get install jq)" >&2; exit 2; }

K=${K:-4}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-32}
RUNS=$(mktemp /tmp/idem.XXXXXX.jsonl)
OUT=$RUNS
go build -o "$BIN/httpaccept" ./bench/httpaccept
if [ "${PIN:-0}" = 1 ]; then
  [ -n "$RABBIT" ] || { echo "PIN=1: no RabbitMQ process to pin" >&2; exit 2; }
  taskset -apc 0 "$RABBIT" >/dev/null
  trap 'taskset -apc 0-$(($(nproc) - 1)) "$RABBIT" >/dev/null; rm -rf "$BIN"' EXIT
  mv "$BIN/httpaccept" "$BIN/httpaccept.bin"
  printf '#!/bin/sh\nexec taskset -c 1 "%s" "$@"\n' "$BIN/httpaccept.bin" >"$BIN/httpaccept"
  chmod +x "$BIN/httpaccept"
fi

echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K duration=$DURATION conns=$CONNS"
off() { measure no-keys httpaccept --conns "$CONNS" --warmup "$WARMUP" --duration "$DURATION"; }
on() { measure keys httpaccept --conns "$CONNS" --warmup "$WARMUP" --duration "$DURATION" --idempotency-keys; }
for i in $(seq 1 "$K"); do
  if [ $((i % 2)) -eq 1 ]; then off; on; else on; off; fi
done
med() { jq -r --arg l "$1" "select(.label==\$l) | .$2" "$RUNS" | median; }
a0=$(med no-keys accepted_per_s); a1=$(med keys accepted_per_s)
p0=$(med no-keys p99_ms); p1=$(med keys p99_ms)
printf 'median accepted/s  no-keys %.0f  keys %.0f  ratio keys/no-keys %.3f\n' "$a0" "$a1" "$(awk -v a="$a1" -v b="$a0" 'BEGIN{print (b>0 ? a/b : 0)}')"
printf 'median POST p99    no-keys %.1fms  keys %.1fms\n' "$p0" "$p1"
c0=$(jq -r 'select(.label=="no-keys") | (.client_cores * 1e6 / .accepted_per_s)' "$RUNS" | median)
c1=$(jq -r 'select(.label=="keys") | (.client_cores * 1e6 / .accepted_per_s)' "$RUNS" | median)
printf 'median client CPU µs per accepted order  no-keys %.0f  keys %.0f  ratio %.3f\n' "$c0" "$c1" "$(awk -v a="$c1" -v b="$c0" 'BEGIN{print (b>0 ? a/b : 0)}')"
rm -f "$RUNS"
