#!/usr/bin/env bash
# RabbitMQ 4.0 beside the host's own node, for tests and benchmarks.
#
#   scripts/rabbitmq.sh single up|down         one node rabbit4@localhost: AMQP 5673, stream 5553, management 15673
#   scripts/rabbitmq.sh cluster up|down        rabbit-a/b/c@localhost clustered: AMQP 5681-5683,
#                                              stream 5591-5593, management 15681-15683
#   scripts/rabbitmq.sh cluster stop-node a|b|c    clean stop of one node (stop_app + stop)
#   scripts/rabbitmq.sh cluster start-node a|b|c   start it again; it rejoins the cluster
#   scripts/rabbitmq.sh cluster kill-node a|b|c    SIGKILL of that node's Erlang VM (beam)
#   scripts/rabbitmq.sh single stop-node|start-node|kill-node   the same for the single node
#   scripts/rabbitmq.sh single|cluster status  which nodes answer
#   scripts/rabbitmq.sh single|cluster env     the OMS_* variables and PATH for tests (eval it)
#   scripts/rabbitmq.sh single|cluster ctl [a|b|c] ARGS...   rabbitmqctl against that node
#
# The nodes run from a Debian 13 (trixie) chroot with its rabbitmq-server
# (4.0.5 on Erlang 27), built once with debootstrap under $OMS_RABBITMQ4_ROOT
# (default /var/lib/oms-sim/rabbitmq4, ~400 MB, about a minute) and reused.
# They share the host's epmd (4369) and leave the host's node alone.
# Everything is idempotent: up on a running node checks it and returns.
set -euo pipefail

ROOT=${OMS_RABBITMQ4_ROOT:-/var/lib/oms-sim/rabbitmq4}
MIRROR=${OMS_DEBIAN_MIRROR:-}
# Nodes: name amqp stream management dist
SINGLE_NODES=("rabbit4 5673 5553 15673 25673")
CLUSTER_NODES=(
	"rabbit-a 5681 5591 15681 25681"
	"rabbit-b 5682 5592 15682 25682"
	"rabbit-c 5683 5593 15683 25683"
)
START_TIMEOUT=${OMS_RABBITMQ_START_TIMEOUT:-120}

say() { printf 'rabbitmq.sh: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# mirror picks the Debian mirror the host's apt uses (deb.debian.org if none).
mirror() {
	if [ -n "$MIRROR" ]; then
		echo "$MIRROR"
		return
	fi
	local m
	m=$(grep -hoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		grep -oE 'https?://[^ ]+' | grep -v security | head -n1 || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# ensure_chroot builds the chroot once; a half-built one (no marker) is rebuilt.
ensure_chroot() {
	if [ -f "$ROOT/.oms-sim-ready" ]; then
		return
	fi
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq debootstrap >/dev/null
	fi
	say "building the RabbitMQ 4 chroot in $ROOT (Debian trixie, once; about a minute)"
	rm -rf "$ROOT.tmp"
	mkdir -p "$(dirname "$ROOT")"
	if ! debootstrap --variant=minbase --include=rabbitmq-server trixie "$ROOT.tmp" "$(mirror)" >"$ROOT.log" 2>&1; then
		tail -n 20 "$ROOT.log" >&2
		die "debootstrap failed (log: $ROOT.log)"
	fi
	rm -rf "$ROOT"
	mv "$ROOT.tmp" "$ROOT"
	# The package's postinst may have started nothing (no init in a chroot),
	# but make sure no default node holds the chroot's ports.
	touch "$ROOT/.oms-sim-ready"
	say "chroot ready: $(chroot "$ROOT" dpkg-query -W -f='${Version}' rabbitmq-server)"
}

ensure_mounts() {
	mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
	mkdir -p "$ROOT/dev/shm"
	# /dev from debootstrap has the basic nodes; Erlang needs nothing else.
}

# in_chroot runs a command as root inside the chroot; the Debian wrappers
# (rabbitmq-server, rabbitmqctl) switch to the rabbitmq user themselves.
in_chroot() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/rabbitmq LANG=C.UTF-8 "$@"; }

# node_env NAME AMQP STREAM MGMT DIST prints the environment of one node.
node_env() {
	local name=$1
	echo "RABBITMQ_NODENAME=$name@localhost"
	echo "RABBITMQ_NODE_PORT=$2"
	echo "RABBITMQ_DIST_PORT=$5"
	echo "RABBITMQ_CONFIG_FILE=/etc/rabbitmq/oms/$name.conf"
	echo "RABBITMQ_MNESIA_BASE=/var/lib/rabbitmq/oms/$name/mnesia"
	echo "RABBITMQ_LOG_BASE=/var/log/rabbitmq/oms/$name"
	echo "RABBITMQ_ENABLED_PLUGINS_FILE=/etc/rabbitmq/oms/$name.plugins"
	echo "RABBITMQ_PID_FILE=/var/lib/rabbitmq/oms/$name/pid"
}

configure_node() {
	local name=$1 amqp=$2 stream=$3 mgmt=$4 dist=$5
	local etc="$ROOT/etc/rabbitmq/oms"
	mkdir -p "$etc" "$ROOT/var/lib/rabbitmq/oms/$name" "$ROOT/var/log/rabbitmq/oms/$name"
	cat >"$etc/$name.conf" <<-EOF
		# written by oms-sim scripts/rabbitmq.sh
		listeners.tcp.default = 127.0.0.1:$amqp
		stream.listeners.tcp.1 = 127.0.0.1:$stream
		stream.advertised_host = localhost
		stream.advertised_port = $stream
		management.tcp.port = $mgmt
		management.tcp.ip = 127.0.0.1
		loopback_users.guest = true
		log.file.level = info
		log.console = false
	EOF
	echo '[rabbitmq_management,rabbitmq_stream].' >"$etc/$name.plugins"
	chroot "$ROOT" chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
	# One cookie for every node of the chroot (the cluster's shared secret).
	if [ ! -s "$ROOT/var/lib/rabbitmq/.erlang.cookie" ]; then
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ROOT/var/lib/rabbitmq/.erlang.cookie"
		chmod 400 "$ROOT/var/lib/rabbitmq/.erlang.cookie"
		chroot "$ROOT" chown rabbitmq:rabbitmq /var/lib/rabbitmq/.erlang.cookie
	fi
}

# ctl NAME ARGS... runs rabbitmqctl against node NAME@localhost.
ctl() {
	local name=$1
	shift
	in_chroot rabbitmqctl -n "$name@localhost" "$@"
}

node_up() { ctl "$1" -q status >/dev/null 2>&1; }

# start_node SPEC [nowait] starts one node unless it is running, and
# waits for it unless told not to.
start_node() {
	read -r name amqp stream mgmt dist <<<"$1"
	if node_up "$name"; then
		say "$name@localhost is running (AMQP $amqp)"
		return
	fi
	if ss -ltn "sport = :$amqp" | grep -q LISTEN; then
		die "port $amqp is taken by something that is not $name@localhost"
	fi
	configure_node "$name" "$amqp" "$stream" "$mgmt" "$dist"
	say "starting $name@localhost (AMQP $amqp, stream $stream, management $mgmt)"
	# shellcheck disable=SC2046
	in_chroot env $(node_env "$name" "$amqp" "$stream" "$mgmt" "$dist") rabbitmq-server -detached
	[ "${2:-}" = nowait ] || wait_node "$name"
}

wait_node() {
	local name=$1 deadline=$((SECONDS + START_TIMEOUT))
	while [ $SECONDS -lt $deadline ]; do
		if ctl "$name" -q await_startup --timeout 5 >/dev/null 2>&1; then
			return
		fi
		sleep 1
	done
	tail -n 30 "$ROOT/var/log/rabbitmq/oms/$1/$1@localhost.log" >&2 2>/dev/null || true
	die "$name@localhost did not start within ${START_TIMEOUT}s"
}

stop_node() {
	local name=$1
	if node_up "$name"; then
		say "stopping $name@localhost"
		ctl "$name" -q stop >/dev/null 2>&1 || true
	fi
	# rabbitmqctl stop returns once the VM is gone.
}

# beam_pid NAME prints the OS pid of NAME's Erlang VM, as the node says.
beam_pid() {
	ctl "$1" -q eval 'os:getpid().' 2>/dev/null | tr -dc '0-9'
}

kill_node() {
	local name=$1 pids
	pids=$(beam_pid "$name")
	[ -n "$pids" ] || die "$name@localhost is not running"
	say "SIGKILL to $name@localhost (beam pid $pids)"
	# shellcheck disable=SC2086
	kill -9 $pids
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pids" 2>/dev/null || return 0
		sleep 0.2
	done
	die "$name@localhost still running after SIGKILL"
}

node_spec() {
	local want=$1 spec
	for spec in "${CLUSTER_NODES[@]}"; do
		if [ "${spec%% *}" = "rabbit-$want" ]; then
			echo "$spec"
			return
		fi
	done
	die "node '$want': valid are a, b, c"
}

cluster_up() {
	local spec
	# All at once: a clustered node that was not the last to stop waits
	# for its peers before it finishes booting.
	for spec in "${CLUSTER_NODES[@]}"; do
		start_node "$spec" nowait
	done
	for spec in "${CLUSTER_NODES[@]}"; do
		wait_node "${spec%% *}"
	done
	local first=rabbit-a
	for spec in "${CLUSTER_NODES[@]:1}"; do
		local name=${spec%% *}
		if ctl "$first" -q cluster_status --formatter json 2>/dev/null | grep -q "\"$name@localhost\""; then
			continue
		fi
		say "joining $name@localhost to $first@localhost"
		ctl "$name" -q stop_app
		ctl "$name" -q reset
		ctl "$name" -q join_cluster "$first@localhost"
		ctl "$name" -q start_app
		wait_node "$name"
	done
	# Feature flags on a fresh cluster are what its version defaults to;
	# make sure all are enabled (quorum dead-lettering needs stream_queue & co).
	ctl "$first" -q enable_feature_flag all >/dev/null 2>&1 || true
	print_env cluster
}

print_env() {
	local kind=$1 spec amqp="" stream="" mgmt=""
	local -a nodes
	if [ "$kind" = single ]; then nodes=("${SINGLE_NODES[@]}"); else nodes=("${CLUSTER_NODES[@]}"); fi
	for spec in "${nodes[@]}"; do
		read -r name a s m _ <<<"$spec"
		amqp+="${amqp:+,}amqp://guest:guest@localhost:$a/"
		stream+="${stream:+,}rabbitmq-stream://guest:guest@localhost:$s/"
		mgmt+="${mgmt:+,}http://guest:guest@localhost:$m/"
	done
	say "$kind up: --amqp '$amqp' --stream-url '$stream'"
	# A rabbitmqctl on PATH that talks to this broker (the tests call it).
	local bin="$ROOT/../bin-$kind"
	mkdir -p "$bin"
	local first=${nodes[0]%% *}
	cat >"$bin/rabbitmqctl" <<-EOF
		#!/bin/sh
		# oms-sim scripts/rabbitmq.sh: rabbitmqctl of the $kind 4.0 broker
		exec chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/rabbitmq LANG=C.UTF-8 rabbitmqctl -n $first@localhost "\$@"
	EOF
	chmod +x "$bin/rabbitmqctl"
	bin=$(cd "$bin" && pwd)
	if [ "$kind" = single ]; then
		echo "export OMS_AMQP_URL='${amqp}'"
		echo "export OMS_STREAM_URL='${stream}'"
		echo "export OMS_MANAGEMENT_URL='${mgmt}'"
	else
		echo "export OMS_CLUSTER_AMQP_URL='${amqp}'"
		echo "export OMS_CLUSTER_STREAM_URL='${stream}'"
		echo "export OMS_CLUSTER_MANAGEMENT_URL='${mgmt}'"
		echo "export OMS_CLUSTER_SCRIPT='$(cd "$(dirname "$0")" && pwd)/rabbitmq.sh'"
	fi
	echo "export PATH='$bin':\"\$PATH\""
}

status() {
	local -a nodes=("$@") spec
	for spec in "${nodes[@]}"; do
		local name=${spec%% *}
		if node_up "$name"; then echo "$name@localhost up"; else echo "$name@localhost down"; fi
	done
}

[ $# -ge 2 ] || usage
kind=$1 cmd=$2
shift 2
case $kind in
single) NODES=("${SINGLE_NODES[@]}") ;;
cluster) NODES=("${CLUSTER_NODES[@]}") ;;
*) usage ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (chroot and mount)"

case $cmd in
up)
	ensure_chroot
	ensure_mounts
	if [ "$kind" = single ]; then
		start_node "${SINGLE_NODES[0]}"
		ctl rabbit4 -q enable_feature_flag all >/dev/null 2>&1 || true
		print_env single
	else
		cluster_up
	fi
	;;
down)
	[ -f "$ROOT/.oms-sim-ready" ] || exit 0
	for spec in "${NODES[@]}"; do
		stop_node "${spec%% *}"
	done
	;;
stop-node | start-node | kill-node)
	if [ "$kind" = single ]; then
		spec=${SINGLE_NODES[0]} # the one node: no argument
	else
		[ $# = 1 ] || usage
		spec=$(node_spec "$1")
	fi
	case $cmd in
	stop-node) stop_node "${spec%% *}" ;;
	start-node)
		ensure_mounts
		start_node "$spec"
		;;
	kill-node) kill_node "${spec%% *}" ;;
	esac
	;;
status) status "${NODES[@]}" ;;
env) print_env "$kind" 2>/dev/null ;;
ctl)
	name=${NODES[0]%% *}
	if [ "$kind" = cluster ] && [[ ${1:-} =~ ^[abc]$ ]]; then
		name=rabbit-$1
		shift
	fi
	ctl "$name" "$@"
	;;
*) usage ;;
esac
