# lib.sh — shared by compare.sh and sweep.sh (source it; not a command).
#
# measure LABEL PROGRAM ARGS... runs $BIN/PROGRAM ARGS... --json once and
# prints one line: completed/s, published/s, p50/p99, the cores used by the
# program ("client"), by RabbitMQ and by everything else ("others": other
# users' jobs, plus kernel disk and loopback work, ~0.1–0.3 cores even when
# the machine is otherwise idle), and CPU µs per completed order (whole run,
# start-up and drain included, divided by the window's rate: an estimate).
# Before a run it waits up to QUIET_WAIT s (default 120) for the others to
# drop below QUIET cores (default 0.3; 0 = don't wait); a run during which
# the others used more than NOISY cores (default 0.5) is repeated, up to
# RETRIES times (default 2), and the last attempt is kept either way.
# Each kept run's JSON (plus label and the CPU figures) goes to $OUT if set,
# and "LABEL completed/s" to $BIN/rates.
QUIET=${QUIET:-0.3}
QUIET_WAIT=${QUIET_WAIT:-120}
NOISY=${NOISY:-0.5}
RETRIES=${RETRIES:-2}
OUT=${OUT:-}

BIN=$(mktemp -d /tmp/bench.XXXXXX)
trap 'rm -rf "$BIN"' EXIT
: >"$BIN/rates"
RABBIT=$(pgrep -u rabbitmq -f beam.smp | head -1 || true)

if command -v jq >/dev/null; then
  field() { jq -r ".$1"; }
  median() { jq -s 'sort | if length == 0 then 0 elif length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end'; }
else
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
  median() { python3 -c "import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(statistics.median(v) if v else 0)"; }
fi

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
ticks() { if [ -n "$RABBIT" ] && [ -r "/proc/$RABBIT/stat" ]; then awk '{print $14+$15}' "/proc/$RABBIT/stat"; else echo 0; fi; }

wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) b0 r0 b1 r1
  while [ "$QUIET" != 0 ] && [ $SECONDS -lt $deadline ]; do
    b0=$(busy); r0=$(ticks); sleep 1; b1=$(busy); r1=$(ticks)
    if awk -v o="$((b1 - b0 - (r1 - r0)))" -v q="$QUIET" 'BEGIN{exit !(o < q*100)}'; then return; fi
  done
}

measure() {
  local label=$1 prog=$2 attempt json b0 r0 t0 b1 r1 t1 self client rabbit others rate
  shift 2
  for attempt in $(seq 0 "$RETRIES"); do
    wait_quiet
    b0=$(busy); r0=$(ticks); t0=$(date +%s.%N)
    json=$(/usr/bin/time -f '%U %S' -o "$BIN/time" "$BIN/$prog" "$@" --json) || { echo "$label: $prog failed" >&2; return 1; }
    b1=$(busy); r1=$(ticks); t1=$(date +%s.%N)
    self=$(awk '{print ($1+$2)*100}' "$BIN/time")
    read -r client rabbit others < <(awk -v b="$((b1 - b0))" -v r="$((r1 - r0))" -v s="$self" -v t0="$t0" -v t1="$t1" \
      'BEGIN{w=(t1-t0)*100; printf "%.2f %.2f %.2f\n", s/w, r/w, (b-r-s)/w}')
    awk -v o="$others" -v n="$NOISY" 'BEGIN{exit !(o > n)}' || break
    [ "$attempt" -lt "$RETRIES" ] && echo "  ($label: others used $others cores; repeating)" >&2
  done
  rate=$(field completed_per_s <<<"$json")
  printf '%-24s completed/s %7.0f  published/s %7.0f  p50 %7.1fms  p99 %7.1fms  cores: client %s rabbit %s others %s  CPU µs/order: client %s rabbit %s\n' \
    "$label" "$rate" "$(field published_per_s <<<"$json")" "$(field p50_ms <<<"$json")" "$(field p99_ms <<<"$json")" \
    "$client" "$rabbit" "$others" \
    "$(awk -v c="$client" -v r="$rate" 'BEGIN{printf "%.0f", (r>0 ? c*1e6/r : 0)}')" \
    "$(awk -v c="$rabbit" -v r="$rate" 'BEGIN{printf "%.0f", (r>0 ? c*1e6/r : 0)}')"
  echo "$label $rate" >>"$BIN/rates"
  if [ -n "$OUT" ] && command -v jq >/dev/null; then
    jq -c --arg l "$label" --argjson o "$others" --argjson c "$client" --argjson r "$rabbit" \
      '. + {label: $l, others_cores: $o, client_cores: $c, rabbit_cores: $r}' <<<"$json" >>"$OUT"
  elif [ -n "$OUT" ]; then
    echo "$json" >>"$OUT"
  fi
}

# pin_apart, when PIN=1: RabbitMQ's threads on CPU 0 (until the script
# exits), and pinned_bin NAME makes $BIN/NAME run on CPU 1, so that the
# broker and the client do not share a core and each one's CPU per order
# shows apart. PINNED says which, for the header line.
PINNED=no
pin_apart() {
  [ "${PIN:-0}" = 1 ] || return 0
  [ -n "$RABBIT" ] || { echo "PIN=1 needs a local RabbitMQ to pin" >&2; exit 2; }
  taskset -apc 0 "$RABBIT" >/dev/null
  trap 'taskset -apc 0-$(($(nproc) - 1)) "$RABBIT" >/dev/null; rm -rf "$BIN"' EXIT
  PINNED="RabbitMQ CPU 0, client CPU 1"
}
pinned_bin() {
  [ "$PINNED" != no ] || return 0
  mv "$BIN/$1" "$BIN/$1.bin"
  printf '#!/bin/sh\nexec taskset -c 1 "%s" "$@"\n' "$BIN/$1.bin" >"$BIN/$1"
  chmod +x "$BIN/$1"
}

# medianof LABEL: the median completed/s of the runs labelled LABEL.
medianof() { awk -v l="$1" '$1==l{print $2}' "$BIN/rates" | median | awk '{printf "%.1f\n", $1}'; }
