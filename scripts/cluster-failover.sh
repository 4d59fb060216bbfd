#!/usr/bin/env bash
# Failover on the 4.0 cluster (issue 15): oms-sim with quorum queues and
# the event log on a replicated stream runs 200 orders/s for 60 s while
#   stop:  the node the API's session is on is stopped at 15 s and
#          started again at 30 s (scripts/rabbitmq.sh cluster stop-node), or
#   kill:  the node leading the most quorum queues is SIGKILLed at 15 s
#          and started again at 30 s (kill-node);
# then the audit must say lost 0, duplicated 0, and the event stream must
# still hold the run's events.
#
#   scripts/cluster-failover.sh [stop|kill] [BINARY]
#
# Needs the cluster up (scripts/rabbitmq.sh cluster up). Prints the time
# to failover: the last order accepted before the stop to the first after.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-stop}
bin=${2:-}
RMQ=scripts/rabbitmq.sh
case $mode in stop | kill) ;; *)
	echo "usage: $0 [stop|kill] [BINARY]" >&2
	exit 2
	;;
esac
eval "$($RMQ cluster env)"
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "$bin" ]; then
	go build -o "$work/oms-sim" .
	bin=$work/oms-sim
fi
ns=failover-$mode-$$
port=$((5200 + RANDOM % 300)) # not 5191-5198: tui-check.sh runs beside it in CI
cat >"$work/failover.yaml" <<EOF
name: cluster-failover
description: 200 orders/s for 60 s while a cluster node goes away and comes back.
seed: 15
stages:
  payment:   {workers: 4}
  inventory: {workers: 4}
  email:     {workers: 4}
catalog: {products: 20, stock: 1000000}
retry: {max: 10, backoff: 500ms}
phases:
  - {name: failover, duration: 60s, rate: 200/s}
thresholds:
  - {metric: lost_orders, max: 0}
  - {metric: duplicated_orders, max: 0}
EOF

"$bin" --scenario "$work/failover.yaml" --headless --queue-type quorum --events stream \
	--amqp "$OMS_CLUSTER_AMQP_URL" --stream-url "$OMS_CLUSTER_STREAM_URL" \
	--management-url off --namespace "$ns" --http "127.0.0.1:$port" --process "$ns" \
	--drain-timeout 120s --report "$work/report.json" --log-file "$work/oms.log" --log-level info \
	>"$work/out.txt" 2>&1 &
pid=$!
api=http://127.0.0.1:$port

# Wait for the API (the run's clock starts with it).
for i in $(seq 1 60); do
	curl -fsS "$api/readyz" >/dev/null 2>&1 && break
	kill -0 $pid 2>/dev/null || {
		cat "$work/out.txt" >&2
		exit 1
	}
	sleep 0.5
done
t0=$(date +%s.%N)
at() { # at SECONDS: sleep until that long after t0
	local left
	left=$(echo "$1 - ($(date +%s.%N) - $t0)" | bc)
	if [ "$(echo "$left > 0" | bc)" = 1 ]; then sleep "$left"; fi
}
snapshot() { curl -fsS --max-time 2 "$api/api/snapshot" 2>/dev/null || true; }

# The API's accepted count ten times a second, for the failover time.
(
	# Light on purpose (curl and sed only): CI's machine is busy.
	while kill -0 $pid 2>/dev/null; do
		acc=$(snapshot | tr -d ' \n' | sed -n 's/.*"api":{"accepted":\([0-9]*\).*/\1/p')
		echo "$(date +%s.%N) ${acc:-?}"
		sleep 0.1
	done
) >"$work/accepted.txt" &
sampler=$!
at 15
case $mode in
stop)
	node=$(snapshot | python3 -c 'import json,sys; print(json.load(sys.stdin)["broker"]["sessions"]["api"])' 2>/dev/null || echo "")
	port_=${node##*:}
	case $port_ in 5681) victim=a ;; 5682) victim=b ;; 5683) victim=c ;; *)
		echo "cannot tell the API's node from the snapshot ('$node')" >&2
		exit 1
		;;
	esac
	echo "15 s: stopping node $victim (the API's session is on $node)"
	$RMQ cluster stop-node "$victim"
	;;
kill)
	# The node leading the most of this run's quorum queues.
	victim=$($RMQ cluster ctl -q list_queues name leader --formatter json 2>/dev/null |
		python3 -c "import json,sys,collections; qs=[q for q in json.load(sys.stdin) if q['name'].startswith('$ns.')]; c=collections.Counter(q['leader'] for q in qs); print(c.most_common(1)[0][0].split('@')[0][-1])")
	echo "15 s: SIGKILL of node $victim (leads the most of the run's quorum queues)"
	$RMQ cluster kill-node "$victim"
	;;
esac
at 30
echo "30 s: starting node $victim"
$RMQ cluster start-node "$victim"

status=0
wait $pid || status=$?
wait $sampler || true
cp "$work/accepted.txt" "${OMS_FAILOVER_SAMPLES:-/dev/null}" 2>/dev/null || true
# Failover time: the longest stretch after the stop began in which no
# order was accepted (last accepted before it -> first after).
failover=$(python3 - "$work/accepted.txt" "$(echo "$t0 + 15" | bc)" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    t, a = line.split()

    if a != "?":
        rows.append((float(t), int(a)))
start = float(sys.argv[2])
gap, last_t, last_a = 0.0, None, None
for t, a in rows:
    if last_a is None or a > last_a:
        if last_t is not None and t >= start and last_t < start + 30:
            gap = max(gap, t - last_t)
        last_t, last_a = t, a
if not rows:
    print("unknown (no sample read the accepted count)")
else:
    print("%.1f" % gap)
EOF
)
echo "failover: at most ${failover} s without an accepted order after the stop ($(wc -l <"$work/accepted.txt") samples over the run)"
tail -n 25 "$work/out.txt"
python3 - "$work/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
a = r["audit"]
print("accepted %d lost %d duplicated %d" % (a.get("accepted", 0), a.get("lost", 0), a.get("duplicated", 0)))
sys.exit(0 if a.get("lost", 1) == 0 and a.get("duplicated", 1) == 0 else 1)
EOF
# The event stream kept the run's events (its replicas outlived one node).
msgs=$($RMQ cluster ctl -q list_queues name messages --formatter json |
	python3 -c "import json,sys; print(sum(q.get('messages') or 0 for q in json.load(sys.stdin) if q['name']=='$ns.oms.events'))")
echo "event stream $ns.oms.events: $msgs messages (each up to 100 events)"
[ "$msgs" -gt 0 ] || status=1
# The cluster outlives the run: take the run's queues and stream away.
for q in $($RMQ cluster ctl -q list_queues name --formatter json | python3 -c "import json,sys; print(' '.join(q['name'] for q in json.load(sys.stdin) if q['name'].startswith('$ns.')))"); do
	$RMQ cluster ctl -q delete_queue "$q" >/dev/null 2>&1 || true
done
echo "failover ($mode): exit $status, longest stall of accepted orders ${failover} s"
exit $status
