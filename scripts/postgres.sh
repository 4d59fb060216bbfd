#!/usr/bin/env bash
# postgres.sh up|down|status|env|url — a PostgreSQL for oms-sim's shared
# state (--state postgres://…, issue 17) on this machine.
#
#   up      install Debian's postgresql if it is missing, create a cluster
#           if there is none, start it, create the role and database
#           oms-sim uses (idempotent), and print the URL
#   down    stop the cluster (its data stays)
#   status  say whether it answers
#   env     print `export OMS_STATE_URL=…` (eval "$(scripts/postgres.sh env)")
#   url     print the URL only
#
# The role and database are "oms" with password "oms", on the cluster's
# port (5432 unless PGPORT names another); OMS_PG_USER, OMS_PG_PASSWORD and
# OMS_PG_DB change them. Runs as root (the cluster is run as the postgres
# user through pg_ctlcluster, as Debian does without systemd).
set -euo pipefail

user=${OMS_PG_USER:-oms}
password=${OMS_PG_PASSWORD:-oms}
db=${OMS_PG_DB:-oms}

die() {
	echo "postgres.sh: $*" >&2
	exit 1
}

install() {
	command -v pg_ctlcluster >/dev/null 2>&1 && return
	echo "postgres.sh: installing postgresql" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The package's own start attempt fails without systemd; harmless.
	apt-get install -y -qq postgresql >/dev/null || command -v pg_ctlcluster >/dev/null ||
		die "could not install postgresql"
}

# cluster prints "VERSION NAME PORT" of the first cluster, creating one
# (the newest installed server version, named main) if there is none.
cluster() {
	local line ver
	line=$(pg_lsclusters -h 2>/dev/null | head -1 || true)
	if [[ -z $line ]]; then
		ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
		[[ -n $ver ]] || die "no PostgreSQL server installed under /usr/lib/postgresql"
		pg_createcluster "$ver" main ${PGPORT:+--port "$PGPORT"} >/dev/null
		line=$(pg_lsclusters -h | head -1)
	fi
	awk '{print $1, $2, $3}' <<<"$line"
}

psql_admin() {
	local port=$1
	shift
	runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
}

up() {
	install
	local ver name port i
	read -r ver name port < <(cluster)
	if ! pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1; then
		pg_ctlcluster "$ver" "$name" start || die "cluster $ver/$name did not start (see /var/log/postgresql/)"
	fi
	for i in $(seq 1 60); do
		pg_isready -q -h localhost -p "$port" && break
		[[ $i == 60 ]] && die "cluster $ver/$name does not answer on port $port"
		sleep 0.5
	done
	# Role and database, idempotently. The password is set every time so
	# that a changed OMS_PG_PASSWORD takes effect.
	psql_admin "$port" -v u="$user" -v p="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'u')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN PASSWORD :'p';
SQL
	psql_admin "$port" -v u="$user" -v d="$db" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d') \gexec
SQL
	url_of "$port"
}

url_of() { echo "postgres://$user:$password@localhost:$1/$db?sslmode=disable"; }

port() {
	command -v pg_lsclusters >/dev/null 2>&1 || die "postgresql is not installed (scripts/postgres.sh up)"
	local ver name port
	read -r ver name port _ < <(pg_lsclusters -h | head -1) || true
	[[ -n ${port:-} ]] || die "no cluster (scripts/postgres.sh up)"
	echo "$port"
}

case ${1:-} in
up) up ;;
down)
	command -v pg_lsclusters >/dev/null 2>&1 || exit 0
	pg_lsclusters -h | while read -r ver name _; do
		pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
	done
	;;
status)
	p=$(port)
	if pg_isready -q -h localhost -p "$p"; then echo "up: $(url_of "$p" | sed 's/:[^:@]*@/:***@/')"; else
		echo "down (port $p)"
		exit 1
	fi
	;;
env) echo "export OMS_STATE_URL='$(url_of "$(port)")'" ;;
url) url_of "$(port)" ;;
*)
	echo "usage: scripts/postgres.sh up|down|status|env|url" >&2
	exit 2
	;;
esac
