#!/usr/bin/env bash
# brokers.sh — the same measurements on RabbitMQ 3.10 (the host's node),
# 4.0 single (scripts/rabbitmq.sh single up) and the 4.0 three-node cluster
# (scripts/rabbitmq.sh cluster up), in alternating rounds; prints the
# medians (issue 15).
#
#   bench/brokers.sh [ROUNDS] [DURATION]      (default 3 rounds of 10s)
#
# Per broker and round:
#   oms-sim bench --queue-types classic,quorum,stream --duration D
#       publish/s and consume/s per queue type (one publisher with
#       confirms, one consumer; the cluster's clients on its first node)
#   bench/enginepipe --queue-type quorum --duration D
#       the whole pipeline's maximum end-to-end orders/s with quorum
#       queues (on the cluster, the engine's sessions spread over the nodes)
# Both nodes sets must be up; nothing is started or stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
DUR=${2:-10s}
work=$(mktemp -d /tmp/brokers.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/oms-sim" .
go build -o "$work/enginepipe" ./bench/enginepipe

eval "$(scripts/rabbitmq.sh single env)"
single_amqp=$OMS_AMQP_URL single_stream=$OMS_STREAM_URL
eval "$(scripts/rabbitmq.sh cluster env)"
declare -A AMQP=(
	[3.10]="amqp://guest:guest@localhost:5672/"
	[4.0]="$single_amqp"
	[4.0-cluster]="$OMS_CLUSTER_AMQP_URL"
)
declare -A STREAM=(
	[3.10]="rabbitmq-stream://guest:guest@localhost:5552/"
	[4.0]="$single_stream"
	[4.0-cluster]="$OMS_CLUSTER_STREAM_URL"
)
brokers=(3.10 4.0 4.0-cluster)

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
	for b in "${brokers[@]}"; do
		"$work/oms-sim" bench --queue-types classic,quorum,stream --duration "$DUR" --warmup 2s \
			--amqp "${AMQP[$b]}" --stream-url "${STREAM[$b]}" --report "$work/q-$b-$r.json" >/dev/null
		"$work/enginepipe" --amqp "${AMQP[$b]}" --queue-type quorum --duration "$DUR" --json >"$work/e-$b-$r.json" 2>/dev/null ||
			echo '{"completed_per_s": 0}' >"$work/e-$b-$r.json"
		echo "round $r $b done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work" "$ROUNDS" "${brokers[@]}" <<'EOF'
import json, statistics, sys, glob
work, rounds, brokers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def med(v): return statistics.median(v) if v else 0
print("| broker | classic pub/s | classic cons/s | quorum pub/s | quorum cons/s | stream pub/s | stream cons/s | pipeline (quorum) orders/s |")
print("|---|---|---|---|---|---|---|---|")
for b in brokers:
    rates = {}
    for r in range(1, rounds + 1):
        rep = json.load(open(f"{work}/q-{b}-{r}.json"))
        rows = rep.get("results") or rep.get("types") or rep
        for row in rows:
            rates.setdefault(row["type"], {"p": [], "c": []})
            rates[row["type"]]["p"].append(row["publish_per_s"])
            rates[row["type"]]["c"].append(row["consume_per_s"])
    pipe = [json.load(open(f"{work}/e-{b}-{r}.json")).get("completed_per_s", 0) for r in range(1, rounds + 1)]
    cells = []
    for t in ("classic", "quorum", "stream"):
        x = rates.get(t, {"p": [], "c": []})
        cells += ["%.0f" % med(x["p"]), "%.0f" % med(x["c"])]
    print("| %s | %s | %.0f (%s) |" % (b, " | ".join(cells), med(pipe), ", ".join("%.0f" % p for p in pipe)))
EOF
