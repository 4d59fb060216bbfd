#!/usr/bin/env bash
# product-vs-ref.sh — does the product path reach the broker's ceiling?
# Alternates, K rounds: bench/refpipe flat out (the bare amqp091 pipeline's
# maximum, completed orders/s), then the real product — `oms-sim --scenario
# S --headless` with default settings, http driver and publish driver —
# offered a staircase of rates from 40 % to 110 % of that round's refpipe
# maximum. The product "sustains" a step when sent ÷ offered ≥ 0.98 and at
# most 2 % of its sends leave late (issue 10); its figure is the highest
# such step. Prints every run, then the medians and the ratios to refpipe.
#
#   bench/product-vs-ref.sh                  # K=3, 8 s steps
#   K=5 STEP=10s bench/product-vs-ref.sh
#   FLAGS="--events memory" bench/product-vs-ref.sh   # extra oms-sim flags
#   PIN=1 bench/product-vs-ref.sh            # RabbitMQ on CPU 0, refpipe and
#       oms-sim on CPU 1: the broker's ceiling on one core, with no sharing
#
# Noise handling (QUIET, NOISY, RETRIES) is lib.sh's, for refpipe; the
# product runs wait for the same quiet first.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v jq >/dev/null || { echo "product-vs-ref.sh needs jq" >&2; exit 2; }
K=${K:-3}
STEP=${STEP:-8s}
read -r -a FLAGS <<<"${FLAGS:-}"
go build -o "$BIN/refpipe" ./bench/refpipe
go build -o "$BIN/oms-sim" .
pin_apart
pinned_bin refpipe
pinned_bin oms-sim
RUNS=$(mktemp /tmp/pvr.XXXXXX.txt)

echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  K=$K step=$STEP  oms-sim flags: ${FLAGS[*]:-(defaults)}  pinned: $PINNED"

# staircase MAX writes a scenario of steps 40..110 % of MAX, each a phase.
staircase() {
	local max=$1 f
	{
		echo "name: staircase"
		echo "phases:"
		echo "  - {name: warm-up, duration: 5s, rate: $(awk -v m="$max" 'BEGIN{printf "%d", m*0.2}')/s}"
		for f in 40 50 60 70 80 85 90 95 100 110; do
			echo "  - {name: p$f, duration: $STEP, rate: $(awk -v m="$max" -v f="$f" 'BEGIN{printf "%d", m*f/100}')/s}"
		done
	} >"$BIN/stairs.yaml"
}

# product LABEL DRIVER: run the staircase and print the highest sustained step.
product() {
	local label=$1 driver=$2 ns="bench-pvr-$$-$RANDOM" rep="$BIN/rep.json" best
	wait_quiet
	"$BIN/oms-sim" --scenario "$BIN/stairs.yaml" --headless --driver "$driver" --namespace "$ns" \
		--http 127.0.0.1:0 --report "$rep" "${FLAGS[@]}" >/dev/null 2>"$BIN/err" || true
	bench/cleanup-ns.sh "$ns." >/dev/null 2>&1 || true
	[ -s "$rep" ] || { echo "$label: no report ($(tail -1 "$BIN/err"))" >&2; return 1; }
	best=$(jq -r '[.phases[] | select(.name != "warm-up")
		| select(.expected > 0 and (.sent_in_phase / .expected) >= 0.98 and .late_sends <= 0.02 * (.sent + 1))
		| .target_rate] | max // 0' "$rep")
	printf '%-22s sustained %7.0f/s   steps: %s\n' "$label" "$best" \
		"$(jq -r '[.phases[] | select(.name != "warm-up") | "\(.name)=\(.sent_in_phase)/\(.expected|floor) late \(.late_sends) limit \(.limit.kind // "-")"] | join("; ")' "$rep")"
	echo "$label $best" >>"$RUNS"
	rm -f "$rep"
}

for i in $(seq 1 "$K"); do
	measure refpipe refpipe --workers 2 --prefetch 300 --inflight 100 --warmup 3s --duration 15s
	max=$(awk '$1=="refpipe"{v=$2} END{print v}' "$BIN/rates")
	echo "refpipe $max" >>"$RUNS"
	staircase "$max"
	if [ $((i % 2)) -eq 1 ]; then product "product http" http; product "product publish" publish
	else product "product publish" publish; product "product http" http; fi
done
med() { awk -v l="$1" '{k=$1; for (i=2;i<NF;i++) k=k" "$i} k==l{print $NF}' "$RUNS" | median; }
r=$(med refpipe); h=$(med "product http"); p=$(med "product publish")
printf 'median  refpipe %.0f/s  product http %.0f/s (%.3f)  product publish %.0f/s (%.3f)\n' "$r" "$h" \
	"$(awk -v a="$h" -v b="$r" 'BEGIN{print (b>0 ? a/b : 0)}')" "$p" "$(awk -v a="$p" -v b="$r" 'BEGIN{print (b>0 ? a/b : 0)}')"
rm -f "$RUNS"
