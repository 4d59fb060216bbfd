#!/usr/bin/env bash
# state-cost.sh [ROUNDS] — what the shared state costs (issue 17): the same
# runs with --state memory and --state postgres://…, alternating, ROUNDS
# times (default 3), medians printed at the end.
#
# Per state and round, one process (all roles), the publish driver, the
# stages of scenario max-throughput (16 workers, prefetch 200, no service
# time), on the host's RabbitMQ, events in memory:
#   max    a constant MAX_RATE (default 3000/s) for DUR (default 15s), more
#          than either state sustains: the orders ended per second (the
#          median of the series' seconds after the first third of the load)
#          is the most the pipeline does;
#   lat    a constant LAT_RATE (default 200/s) for DUR, that both sustain:
#          e2e p50 and p99.
# For postgres, during the max run: transactions per order (the database's
# xact_commit delta ÷ orders accepted, on a database of its own,
# oms_bench, so that no other client's transactions count), the cores the
# PostgreSQL processes used (their /proc CPU times, the postmaster's reaped
# children included), and what its busy backends were doing, sampled from
# pg_stat_activity every 0.2 s: running (no wait), or waiting on a lock
# (Lock:*), on WAL (LWLock:WALWrite, IO:WALSync …) or on the client.
# The oms-sim process's cores are printed too, for both states.
#
# Needs jq, psql and scripts/postgres.sh (as root). OMS_STATE_URL, if set,
# names the database instead of oms_bench (then other clients' transactions
# count too). STATE_PARAMS=synchronous_commit=off (say) is added to the URL
# oms-sim gets: pgx makes a parameter it does not know a setting of each
# session. ONLY=postgres skips the memory runs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
dur=${DUR:-15s}
max_rate=${MAX_RATE:-3000}
lat_rate=${LAT_RATE:-200}

if [ -z "${OMS_STATE_URL:-}" ]; then
	OMS_PG_DB=oms_bench scripts/postgres.sh up >/dev/null
	url=$(OMS_PG_DB=oms_bench scripts/postgres.sh url)
else
	url=$OMS_STATE_URL
fi
bin=$(mktemp -d /tmp/statecost.XXXXXX)
trap 'rm -rf "$bin"; bench/cleanup-ns.sh bench-state- >/dev/null 2>&1 || true' EXIT
go build -o "$bin/oms-sim" .
# (the help in a variable: grep -q ending the pipe early would fail it under pipefail)
help=$("$bin/oms-sim" --help 2>&1 || true)
grep -q -- '--state' <<<"$help" || {
	echo "state-cost: this oms-sim has no --state flag (the shared state of issue 17 is not built in)" >&2
	exit 2
}

sql() { PGOPTIONS="-c client_min_messages=warning" psql "$url" -X -q -At -c "$1"; }
commits() { sql "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
# pgcpu: CPU ticks of every PostgreSQL process, and of those that exited
# (the postmaster's reaped children).
pgcpu() {
	local pm
	pm=$(pgrep -u postgres -o -x postgres || true)
	{
		for p in $(pgrep -u postgres); do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || true; done
		[ -n "$pm" ] && awk '{print $16+$17}' "/proc/$pm/stat"
	} | awk '{s+=$1} END{print s+0}'
}
# dropns NS: drop the schemas the run made (names holding NS's letters and digits).
dropns() {
	local key
	key=$(tr -cd 'a-z0-9' <<<"${1,,}")
	sql "SELECT format('DROP SCHEMA %I CASCADE', nspname) FROM pg_namespace WHERE regexp_replace(lower(nspname), '[^a-z0-9]', '', 'g') LIKE '%$key%'" |
		while read -r stmt; do sql "$stmt" >/dev/null; done
}

scenario() { # RATE
	cat <<YAML
name: state-cost
seed: 1
stages:
  payment:   {workers: 16, prefetch: 200, service_time: {dist: constant, value: 0s}}
  inventory: {workers: 16, prefetch: 200, service_time: {dist: constant, value: 0s}}
  email:     {workers: 16, prefetch: 200, service_time: {dist: constant, value: 0s}}
catalog: {products: 1000, stock: 1000000000}
orders:  {product: {dist: uniform}, quantity: {min: 1, max: 1}, users: 100000}
phases: [{name: run, duration: $dur, rate: $1/s}]
YAML
}

# one STATE KIND RATE ROUND: one run; prints a result line to $bin/results.
one() {
	local state=$1 kind=$2 rate=$3 round=$4 ns name c0 c1 p0 p1 t0 t1 pid
	name=$([ "$state" = memory ] && echo memory || echo postgres)
	ns="bench-state-$$-$name-$kind-$round"
	scenario "$rate" >"$bin/s.yaml"
	if [ "$name" = postgres ]; then
		c0=$(commits)
		(while :; do sql "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()" || true; echo '--'; sleep 0.2; done) >"$bin/waits" 2>/dev/null &
		pid=$!
	fi
	p0=$(pgcpu)
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$bin/time" "$bin/oms-sim" --scenario "$bin/s.yaml" --driver publish --headless --http 127.0.0.1:0 \
		--events memory --state "$state" --namespace "$ns" --drain-timeout 180s --report "$bin/r.json" >"$bin/log" 2>&1 || true
	t1=$(date +%s.%N)
	p1=$(pgcpu)
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
	local accepted p50 p99 done_s
	accepted=$(jq '.audit.accepted' "$bin/r.json")
	p50=$(jq '.e2e.p50_ms' "$bin/r.json")
	p99=$(jq '.e2e.p99_ms' "$bin/r.json")
	# orders ended per second: the median of the series' seconds after the
	# first third of the load (the pipeline at its most).
	done_s=$(jq '(.duration_ms/1000) as $d | [.series.points[] | select(.t_s > $d/3 and .t_s <= $d) | .completed] | sort | if length == 0 then 0 else .[length/2|floor] end' "$bin/r.json")
	local omscores pgcores tpo="" waits=""
	omscores=$(awk -v w="$wall" '{printf "%.2f", ($1+$2)/w}' "$bin/time")
	pgcores=$(awk -v a="$p0" -v b="$p1" -v w="$wall" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz/w}')
	if [ "$name" = postgres ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		c1=$(commits)
		tpo=$(awk -v a="$c0" -v b="$c1" -v n="$accepted" 'BEGIN{printf "%.2f", (n>0 ? (b-a)/n : 0)}')
		# share of backend samples per wait (running = on CPU), and the
		# mean number of busy backends
		waits=$(awk '$0=="--"{s++; next} {n++; w[$0]++} END{printf "busy %.1f:", (s? n/s : 0); for (k in w) printf " %s %.0f%%", k, 100*w[k]/n}' "$bin/waits")
		dropns "$ns"
	fi
	printf '%s %s %s %s ended/s %s p50 %s p99 %s accepted %s oms_cores %s pg_cores %s xact/order %s waits %s\n' \
		"$round" "$name" "$kind" "$rate" "$done_s" "$p50" "$p99" "$accepted" "$omscores" "$pgcores" "${tpo:--}" "${waits:--}" | tee -a "$bin/results"
}

echo "bench/state-cost.sh $rounds (DUR=$dur MAX_RATE=$max_rate LAT_RATE=$lat_rate STATE_PARAMS=${STATE_PARAMS:-}; $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for round in $(seq 1 "$rounds"); do
	# alternate which state goes first
	st=$url
	if [ -n "${STATE_PARAMS:-}" ]; then
		case $url in *\?*) st="$url&$STATE_PARAMS" ;; *) st="$url?$STATE_PARAMS" ;; esac
	fi
	if [ $((round % 2)) = 1 ]; then order=(memory "$st"); else order=("$st" memory); fi
	[ "${ONLY:-}" = postgres ] && order=("$st")
	for st in "${order[@]}"; do one "$st" max "$max_rate" "$round"; done
	for st in "${order[@]}"; do one "$st" lat "$lat_rate" "$round"; done
done

echo
echo "medians of $rounds:"
for name in memory postgres; do
	for kind in max lat; do
		awk -v n="$name" -v k="$kind" '$2==n && $3==k' "$bin/results" >"$bin/sel"
		med() { awk -v f="$1" '{for(i=1;i<=NF;i++) if($i==f) print $(i+1)}' "$bin/sel" | sort -g | awk '{v[NR]=$1} END{print (NR ? (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2) : "-")}'; }
		printf '%-8s %-3s ended/s %7s  p50 %7s ms  p99 %7s ms  oms-sim cores %5s  postgres cores %5s  xact/order %5s\n' \
			"$name" "$kind" "$(med ended/s)" "$(med p50)" "$(med p99)" "$(med oms_cores)" "$(med pg_cores)" "$(med xact/order)"
	done
done
