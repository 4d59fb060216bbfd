#!/usr/bin/env bash
# trace-big.sh [EVENTS] [K] — how long `oms-sim trace ID` and `oms-sim runs`
# take on an event stream holding EVENTS events (default 5 000 000), this
# tree against the build of BEFORE (default: branch main), which read the
# stream from --since 24h on (issue 11: 25 s on 4.7 million events).
#
# bench/tracefill fills the stream of a namespace of its own (NS.oms.events,
# about 1.3 GB for 5 million events) as fast as the broker takes it — a
# denser stream than any pipeline writes, so the 5 s read before an order's
# time holds more events than it would in use. Then, K rounds (default 3),
# alternating: trace of an order near the start, the middle and the end of
# the stream, and runs, each timed (wall, user+sys CPU); the BEFORE build
# traces the middle order and lists runs. Medians are printed at the end.
# The namespace's streams are deleted afterwards unless KEEP=1. RATE=N
# fills at N events a second (a pipeline at its ceiling writes ~25 000)
# instead of as fast as the broker takes them; BEFORE=none skips the old
# build.
set -euo pipefail
EVENTS=${1:-5000000}
K=${2:-3}
BEFORE=${BEFORE:-main}
NS=${NS:-bench-trace-$$}
STREAM_URL=${STREAM_URL:-rabbitmq-stream://guest:guest@localhost:5552/}
cd "$(dirname "$0")/.."
BIN=$(mktemp -d /tmp/trace-big.XXXXXX)
cleanup() {
	[ "${KEEP:-0}" = 1 ] || bash bench/cleanup-ns.sh "$NS." >/dev/null 2>&1 || true
	rm -rf "$BIN"
}
trap cleanup EXIT

go build -o "$BIN/after" .
go build -o "$BIN/tracefill" ./bench/tracefill
mkdir "$BIN/src"
if [ "$BEFORE" != none ]; then
	git archive "$BEFORE" | tar -x -C "$BIN/src"
	(cd "$BIN/src" && go build -o "$BIN/before" .)
fi

echo "filling $NS.oms.events with $EVENTS events…" >&2
fill=$("$BIN/tracefill" --stream-url "$STREAM_URL" --namespace "$NS" --events "$EVENTS" --rate "${RATE:-0}")
echo "$fill" >&2
get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$fill" "$1"; }
first=$(get first) middle=$(get middle) last=$(get last)
seconds=$(get seconds)
echo "filled in ${seconds}s" >&2

# timed LABEL CMD... appends "LABEL wall cpu" to $BIN/times and checks the
# command succeeded and printed what it should.
timed() {
	local label=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$BIN/t" "$@" >"$BIN/out" 2>"$BIN/err" || { echo "$label failed:" >&2; cat "$BIN/err" >&2; return 1; }
	case $label in *-runs) grep -q tracefill "$BIN/out" ;; *) grep -q ': confirmed' "$BIN/out" ;; esac ||
		{ echo "$label: unexpected output:" >&2; cat "$BIN/out" "$BIN/err" >&2; return 1; }
	read -r wall user sys <"$BIN/t"
	echo "$label $wall $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" >>"$BIN/times"
	printf '  %-16s wall %6.2fs  cpu %6.2fs  %s\n' "$label" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$(head -1 "$BIN/out")" >&2
}
for round in $(seq 1 "$K"); do
	echo "round $round" >&2
	timed after-first "$BIN/after" trace "$first" --namespace "$NS" --stream-url "$STREAM_URL"
	timed after-middle "$BIN/after" trace "$middle" --namespace "$NS" --stream-url "$STREAM_URL"
	timed after-last "$BIN/after" trace "$last" --namespace "$NS" --stream-url "$STREAM_URL"
	timed after-runs "$BIN/after" runs --namespace "$NS" --stream-url "$STREAM_URL"
	if [ "$BEFORE" != none ]; then
		timed before-middle "$BIN/before" trace "$middle" --namespace "$NS" --stream-url "$STREAM_URL"
		timed before-runs "$BIN/before" runs --namespace "$NS" --stream-url "$STREAM_URL"
	fi
done
echo
echo "stream: $EVENTS events of $((EVENTS / 7)) orders; medians of $K rounds (wall s, CPU s)"
for label in after-first after-middle after-last after-runs $([ "$BEFORE" != none ] && echo before-middle before-runs); do
	awk -v l="$label" '$1 == l {w[n]=$2; c[n]=$3; n++} END {
		asort(w); asort(c); m = int((n+1)/2); printf "%-16s wall %6.2f  cpu %6.2f\n", l, (n%2 ? w[m] : (w[n/2]+w[n/2+1])/2), (n%2 ? c[m] : (c[n/2]+c[n/2+1])/2) }' "$BIN/times"
done
