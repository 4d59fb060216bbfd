#!/usr/bin/env bash
# chaos.sh [--short] [flags of bench/chaos] — puts a live oms-sim through
# faults and prints a table: layout, fault, orders accepted, lost,
# duplicated, redone, not accepted, recovery time. Exit 1 if any run lost
# or duplicated an order (or did not finish).
#
# Layouts: single (one process), split (--role api,payment with the load,
# --role payment, and two --role inventory,email) and split-api (the same,
# but the load and its audit in a --role none process of their own that
# --target the API's process). Faults: 200 ms
# latency, a 20 KB/s bandwidth cap, reset_peer, a half-open link (heartbeat
# 2 s: noticed within 4 s), a slow broker (confirms 6 s late: 503s), each
# through a Toxiproxy in front of AMQP and stream; a broker restart;
# connections closed by the broker; kill -9 of the payment and of the
# inventory,email processes (split) and of the API's (split-api). --short
# is CI's subset (~2½ min).
#
# The broker is RabbitMQ 4.0's single node (scripts/rabbitmq.sh single up,
# started here if needed): restarting it never touches the host's node.
# Another broker: --amqp URL --stream-url URL --mgmt URL --stop-node CMD
# --start-node CMD. --rate N (default 100/s), --faults NAME,NAME,
# --modes single,split,split-api, --out FILE (the table as markdown), --keep.
# --state memory|postgres://… (repeatable: each fault once per state, then
# a side-by-side table of the audit's ledger; scripts/exactly-once.sh),
# --amqp-latency D, --scenario NAME. CHAOS_STATE=URL runs every fault with
# that --state when this build has the flag (CI: the shared state), and is
# ignored, saying so, when it has not.
set -euo pipefail
cd "$(dirname "$0")/.."

custom=0
for a in "$@"; do
	case $a in --amqp | --amqp=*) custom=1 ;; esac
done
if [ "$custom" = 0 ]; then
	scripts/rabbitmq.sh single up >/dev/null
fi

bin=$(mktemp -d /tmp/chaos.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oms-sim" .
go build -o "$bin/chaos" ./bench/chaos
echo "scripts/chaos.sh $*  ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ -n "${CHAOS_STATE:-}" ]; then
	set -- "$@" --state "$CHAOS_STATE"
fi
status=0
"$bin/chaos" --binary "$bin/oms-sim" "$@" || status=$?
exit "$status"
