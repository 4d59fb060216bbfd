#!/usr/bin/env bash
# ab-pinned.sh BEFORE AFTER — alternate two builds of bench/enginepipe
# (e.g. without and with a change) pinned apart from RabbitMQ: the broker's
# scheduler threads on CPU 0, enginepipe on CPU 1, so each side's CPU per
# order shows apart. Prints every run and the medians.
#   git worktree add /tmp/before <rev> && (cd /tmp/before && go build -o /tmp/ep-before ./bench/enginepipe)
#   go build -o /tmp/ep-after ./bench/enginepipe
#   K=3 bench/ab-pinned.sh /tmp/ep-before /tmp/ep-after
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
K=${K:-3}
DURATION=${DURATION:-15s}
PIN=1
pin_apart
for w in before after; do
	src=$1
	[ "$w" = after ] && src=$2
	cp "$src" "$BIN/$w"
	pinned_bin "$w"
done
echo "# $(date -u +%FT%TZ)  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K duration=$DURATION  pinned: rabbit CPU 0, enginepipe CPU 1"
OUT=$(mktemp /tmp/ackm.XXXXXX.jsonl)
COMMON=(--workers 2 --prefetch 300 --inflight 100 --warmup 3s --duration "$DURATION")
for i in $(seq 1 "$K"); do
	if [ $((i % 2)) -eq 1 ]; then measure before before "${COMMON[@]}"; measure after after "${COMMON[@]}"
	else measure after after "${COMMON[@]}"; measure before before "${COMMON[@]}"; fi
done
b=$(medianof before); a=$(medianof after)
cpu() { jq -r --arg l "$1" 'select(.label==$l) | (.client_cores * 1e6 / .completed_per_s)' "$OUT" | median; }
rcpu() { jq -r --arg l "$1" 'select(.label==$l) | (.rabbit_cores * 1e6 / .completed_per_s)' "$OUT" | median; }
printf 'median completed/s  before %.0f  after %.0f  ratio %.3f\n' "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN{print (b>0 ? a/b : 0)}')"
printf 'median CPU µs/order  client before %.0f after %.0f · rabbit before %.0f after %.0f\n' "$(cpu before)" "$(cpu after)" "$(rcpu before)" "$(rcpu after)"
rm -f "$OUT"
