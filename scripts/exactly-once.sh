#!/usr/bin/env bash
# exactly-once.sh [--short] [--runs N] [flags of bench/chaos] — the
# exactly-once lesson (issue 17, README "Exactly once"): the split pipeline
# (--role api,payment with the load, --role payment, two --role
# inventory,email) runs scenario exactly-once through the same faults —
# kill -9 of the payment-only process, and the broker closing every
# connection of the run — once with --state memory and once with
# --state postgres://… (a schema per run, dropped after it), and prints
# them side by side: accepted, charges, double charges, redone, redelivered,
# inbox hits, stock unbalanced, lost, duplicated, thresholds.
#
# Expected: memory shows double charges (a delivery charged by the killed
# process and not yet acked goes to the other payment process, which has
# no memory of it, and is charged again) and unbalanced stock (two
# inventory processes, two stocks); postgres shows none: one inbox, one
# ledger and one stock for every process. Exit 1 if a postgres run charged
# an order twice, or any run lost or duplicated an order.
#
# --short is CI's: kill -9 payment only, postgres only, shorter runs.
# --runs N repeats the whole comparison N times (how often a kill finds a
# charge not yet acked). The broker is RabbitMQ 4.0's single node
# (scripts/rabbitmq.sh single up); the database OMS_STATE_URL or, unset,
# scripts/postgres.sh up. A binary without --state (the state layer not
# built in) runs the memory half only and says the postgres half is n/a.
# Other flags go to bench/chaos (e.g. --rate 200, --amqp-latency 0).
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
runs=1
pass=()
while [ $# -gt 0 ]; do
	case $1 in
	--short) short=1 ;;
	--runs)
		runs=$2
		shift
		;;
	--runs=*) runs=${1#--runs=} ;;
	*) pass+=("$1") ;;
	esac
	shift
done

scripts/rabbitmq.sh single up >/dev/null

bin=$(mktemp -d /tmp/exactly-once.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oms-sim" .
go build -o "$bin/chaos" ./bench/chaos

states=()
[ "$short" = 1 ] || states+=(--state memory)
url=${OMS_STATE_URL:-}
if [ -z "$url" ]; then
	scripts/postgres.sh up >/dev/null
	url=$(scripts/postgres.sh url)
fi
states+=(--state "$url")

faults='kill -9 payment,connections closed'
short_flags=()
if [ "$short" = 1 ]; then
	faults='kill -9 payment'
	short_flags=(--short)
fi

echo "scripts/exactly-once.sh $*  ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
status=0
for i in $(seq 1 "$runs"); do
	[ "$runs" = 1 ] || echo "== run $i of $runs"
	# 50 ms each way on the AMQP link (not the stream's): a charge's
	# events are stored as soon as ever, its outgoing confirm and its ack
	# take ~150 ms more, so a kill finds deliveries charged, recorded and
	# not acked (without it, at 100/s, one kill in several finds one).
	"$bin/chaos" --binary "$bin/oms-sim" --modes split --faults "$faults" --scenario exactly-once \
		--rate 100 --amqp-latency 50ms "${states[@]}" "${short_flags[@]}" "${pass[@]}" || status=$?
done
exit "$status"
