#!/usr/bin/env bash
# Drive the dashboard in a real terminal (tmux) against the real RabbitMQ,
# the way a person would: start it, start load, read the screen, scale a
# stage, open an order's timeline, quit. Runs at 140x45 and 80x24, then the
# tour on the embedded broker and on RabbitMQ at both sizes (TOUR=0 skips
# it, TOUR_ONLY=1 runs only it).
set -euo pipefail
export LC_ALL=C.UTF-8 # so ${#line} counts characters, not bytes
cd "$(dirname "$0")/.."

bin=$(mktemp -d)/oms-sim
go build -o "$bin" .
session=oms-tui-check-$$
ns=tui-check-$$
worker=
trap 'tmux kill-session -t "$session" 2>/dev/null || true; for s in $(tmux ls -F "#{session_name}" 2>/dev/null | grep -- "-$$\$"); do tmux kill-session -t "$s"; done; [[ -n "$worker" ]] && kill "$worker" 2>/dev/null; bench/cleanup-ns.sh "$ns" 2>/dev/null || true' EXIT

# An idle session keeps the tmux server up between the checks: when a
# check kills the last session and the next creates one at once, the new
# command can meet the server on its way out ("server exited
# unexpectedly", seen once in CI beside the cluster failovers). The EXIT
# trap kills it with the others.
tmux new-session -d -s "oms-tui-keep-$$" "sleep 3600"

fail() {
	echo "tui-check: $*" >&2
	echo "--- screen ---" >&2
	tmux capture-pane -p -t "$session" >&2 || true
	exit 1
}
screen() { tmux capture-pane -p -t "$session"; }
# wait_for PATTERN SECONDS: poll the screen until PATTERN (grep -E) shows.
wait_for() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		screen | grep -E -- "$1" >/dev/null && return 0
		sleep 0.2
	done
	fail "did not see /$1/ within $2s"
}

check_size() {
	local w=$1 h=$2 port=$3
	echo "== dashboard at ${w}x${h}"
	tmux new-session -d -s "$session" -x "$w" -y "$h" \
		"$bin --http 127.0.0.1:$port --namespace $ns --log-file /tmp/$session.log; echo EXITED \$?; sleep 60"
	wait_for 'connected' 15
	wait_for 'STAGES' 5
	# Start the built-in load at 80 orders/s.
	tmux send-keys -t "$session" l
	sleep 0.3
	tmux send-keys -t "$session" 80 Enter
	wait_for 'target 80/s' 5
	wait_for '✓ confirmed' 10
	# Real, changing numbers: the confirmed count grows between two looks.
	local a b
	a=$(screen | grep -Eo '✓ ?[0-9]+' | sed -n 1p | tr -dc 0-9)
	sleep 1.5
	b=$(screen | grep -Eo '✓ ?[0-9]+' | sed -n 1p | tr -dc 0-9)
	[[ -n "$a" && -n "$b" && "$b" -gt "$a" ]] || fail "confirmed count did not grow ($a → $b)"
	screen | grep -E 'p99' >/dev/null || fail "no percentiles"
	screen | grep -E 'oms\.payment' >/dev/null || fail "no queue rows"
	screen | grep -E '[0-9.]+(µs|ms)/[0-9.]+(µs|ms)' >/dev/null || fail "no stage latency figures"
	# Scale payment (the selected stage) from 2 to 3 workers.
	screen | grep -E 'payment +2/2' >/dev/null || fail "payment does not start with 2 workers"
	tmux send-keys -t "$session" +
	wait_for 'payment +3/3' 5
	# Focus the trace, open the selected order's timeline, go back.
	tmux send-keys -t "$session" Tab
	sleep 0.3
	tmux send-keys -t "$session" Enter
	wait_for 'OFFSET' 5
	# The timeline fills in as the snapshot arrives.
	wait_for 'stock\.taken|paid ' 5
	tmux send-keys -t "$session" Escape
	wait_for 'STAGES' 5
	# The broker's own figures (management API, read every 2 s): a line
	# under the queues when there is room, and m shows each queue as the
	# broker counts it; m again goes back.
	if ((h >= 45)); then
		wait_for 'broker: (no alarms|⚠ alarm)|broker figures unavailable' 5
	fi
	tmux send-keys -t "$session" m
	wait_for 'BROKER QUEUES' 5
	wait_for 'oms\.payment +[0-9.k]+ +[0-9.k]+ |broker figures unavailable' 5
	tmux send-keys -t "$session" m
	wait_for 'READY, LAST MINUTE' 5
	# Lines never wider than the terminal.
	local widest
	widest=$(screen | while IFS= read -r l; do echo "${#l}"; done | sort -n | tail -n 1)
	((widest <= w)) || fail "a line is $widest wide in a $w-wide terminal"
	# Quit with q: the process drains and exits 0 (within 10 s: on a
	# machine at load average 15 the drain of 80/s took over 5 s).
	tmux send-keys -t "$session" q
	wait_for 'EXITED 0' 10
	tmux kill-session -t "$session"
}

# check_watcher: a headless process runs the pipeline under load; a
# --role none dashboard in tmux watches it through the event stream.
check_watcher() {
	if ! (exec 3<>/dev/tcp/127.0.0.1/5552) 2>/dev/null; then
		echo "== watcher: skipped (no stream listener on :5552; rabbitmq-plugins enable rabbitmq_stream)"
		return
	fi
	echo "== watcher (--role none) at 140x45"
	local dir
	dir=$(mktemp -d)
	printf 'name: watched\nphases: [{name: steady, duration: 25s, rate: 60/s}]\n' >"$dir/s.yaml"
	"$bin" --scenario "$dir/s.yaml" --headless --driver publish --http 127.0.0.1:5193 --namespace "$ns" \
		--events stream --process worker-proc >"$dir/worker.log" 2>&1 &
	worker=$!
	tmux new-session -d -s "$session" -x 140 -y 45 \
		"$bin --role none --http 127.0.0.1:5194 --namespace $ns --events stream --process watcher --log-file /tmp/$session.watch.log; echo EXITED \$?; sleep 60"
	wait_for 'runs none' 15
	wait_for 'watching: the pipeline runs in other processes' 5
	wait_for 'payment +2 .*other processes' 15
	# The stages' OK counts come from the worker's events and grow.
	local a b
	a=$(screen | grep -E '^. +email ' | awk '{print $9}')
	sleep 2
	b=$(screen | grep -E '^. +email ' | awk '{print $9}')
	[[ "$a" =~ ^[0-9]+$ && "$b" =~ ^[0-9]+$ && "$b" -gt "$a" ]] || fail "email OK count did not grow on the watcher ($a → $b)"
	screen | grep -E 'payment +2 .*[0-9.]+(µs|ms)/[0-9.]+(µs|ms)' >/dev/null || fail "no remote stage latency figures"
	# Steering a stage that runs elsewhere is refused with a reason.
	tmux send-keys -t "$session" +
	wait_for 'payment runs in other processes' 3
	# An order's timeline shows the worker's events.
	tmux send-keys -t "$session" Tab
	sleep 0.3
	tmux send-keys -t "$session" Enter
	wait_for 'payment\.started' 5
	tmux send-keys -t "$session" Escape
	wait_for 'STAGES' 5
	tmux send-keys -t "$session" q
	wait_for 'EXITED 0' 5
	tmux kill-session -t "$session"
	kill "$worker" 2>/dev/null || true
	wait "$worker" 2>/dev/null || true
	worker=
	rm -rf "$dir"
}

# check_shedding: a slow payment stage under more load than it takes, a
# low --max-backlog: ρ passes 100%, the API sheds and the header says so;
# b turns admission control off and the shedding stops.
check_shedding() {
	echo "== overload and shedding at 140x45"
	tmux new-session -d -s "$session" -x 140 -y 45 \
		"$bin --http 127.0.0.1:5194 --namespace $ns-shed --max-backlog 100 --payment-workers 1 --payment-service-time 10ms --log-file /tmp/$session.log; echo EXITED \$?; sleep 60"
	wait_for 'connected' 15
	tmux send-keys -t "$session" l
	sleep 0.3
	tmux send-keys -t "$session" 250 Enter
	wait_for 'shedding: backlog [0-9]+ > 100' 15
	# Offered load, not the busy share: payment's UTIL passes 100%.
	wait_for 'payment +1/1 .* (1[0-9][0-9]|[2-9][0-9][0-9])%' 15
	wait_for 'bottleneck: payment — ρ' 5
	tmux send-keys -t "$session" b
	sleep 0.3
	tmux send-keys -t "$session" 0 Enter
	wait_for 'max backlog 100 → off' 5
	sleep 1
	screen | grep -E 'shedding: backlog' >/dev/null && fail "still shedding with admission control off"
	screen | grep -E '[0-9,]+ shed' >/dev/null || fail "the run line does not count the shed orders"
	tmux send-keys -t "$session" q
	wait_for 'EXITED 0' 20
	tmux kill-session -t "$session"
	bench/cleanup-ns.sh "$ns-shed" 2>/dev/null || true
}

# check_tour KIND W H PORT: the tour scenario (2½ minutes) as a learner
# sees it, on the embedded broker or RabbitMQ: every phase's text shows
# (beside the broker's notice on the embedded one), the rush makes payment
# the bottleneck with ρ over 100% and says how fast its queue grows, w
# explains it, and the report's audit shows LOST 0 (the scenario's
# thresholds exit non-zero otherwise). Runs in a subshell: its own session.
check_tour() {
	local kind=$1 w=$2 h=$3 port=$4 args
	session=oms-tui-tour-$kind-$w-$$
	args="--broker embedded"
	if [[ $kind == rabbitmq ]]; then
		args="--broker rabbitmq --namespace $ns-tour-$w"
	fi
	echo "== tour on $kind at ${w}x${h}"
	tmux new-session -d -s "$session" -x "$w" -y "$h" \
		"$bin --scenario tour $args --http 127.0.0.1:$port --log-file /tmp/$session.log; echo EXITED \$?; sleep 120"
	wait_for 'connected' 20
	if [[ $kind == embedded ]]; then
		wait_for '⚠ embedded broker' 5
	fi
	wait_for '▸ Orders flow API' 10
	if [[ $kind == embedded ]]; then
		screen | grep -E '⚠ embedded broker' >/dev/null || fail "the broker notice went when the phase text came"
	fi
	wait_for "▸ 250/s is more than payment's 2 workers" 30
	# Offered load ρ, not the busy share: payment passes 100% and is the
	# bottleneck; the phase's text has the live prediction.
	wait_for '▲ payment .* (1[0-9][0-9]|[2-9][0-9][0-9])%' 20
	wait_for 'bottleneck: payment' 5
	wait_for 'grows [0-9.k]+/s' 5
	tmux send-keys -t "$session" w
	wait_for 'no steady state' 5
	wait_for 'Little.s law' 5
	tmux send-keys -t "$session" Escape
	wait_for 'STAGES' 5
	wait_for '▸ Payment has 6 workers now' 30
	wait_for '▸ The payment processor declines' 30
	wait_for "▸ Inventory's consumers are down" 30
	wait_for '▸ Traffic rises and falls' 35
	wait_for '▸ Light load while everything drains' 40
	wait_for '✓ passed' 90
	if ((w >= 100)); then
		# The audit comes after the phase, stage and prediction tables:
		# scroll the final report down to it.
		local i
		for i in $(seq 1 30); do
			screen | grep -E 'LOST [0-9]+ · DUPLICATED' >/dev/null && break
			tmux send-keys -t "$session" Down Down Down Down Down
			sleep 0.2
		done
		wait_for 'LOST 0 · DUPLICATED 0' 5
	fi
	tmux send-keys -t "$session" q
	wait_for 'EXITED 0' 30
	tmux kill-session -t "$session"
	if [[ $kind == rabbitmq ]]; then
		bench/cleanup-ns.sh "$ns-tour-$w" 2>/dev/null || true
	fi
	echo "   tour on $kind at ${w}x${h}: ok"
}

# check_tours runs the four tours (both broker kinds at both sizes) side
# by side — each is 2½ minutes of a low rate, so together they take the
# time of one — and fails if any does.
check_tours() {
	local pids=() names=() kind size i=0 port=5195
	for kind in embedded rabbitmq; do
		for size in "140 45" "80 24"; do
			# shellcheck disable=SC2086
			(check_tour "$kind" $size "$port") &
			pids+=($!)
			names+=("$kind at ${size/ /x}")
			port=$((port + 1))
		done
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "tui-check: the tour on ${names[$i]} failed" >&2; exit 1; }
	done
}

if [[ ${TOUR_ONLY:-0} != 1 ]]; then
	check_size 140 45 5191
	check_size 80 24 5192
	check_watcher
	check_shedding
fi
if [[ ${TOUR:-1} == 1 ]]; then
	check_tours
fi
echo "tui-check: ok"
