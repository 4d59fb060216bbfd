#!/usr/bin/env bash
# cleanup-ns.sh PREFIX — delete the queues and exchanges whose names start
# with PREFIX (what benchmark runs declared in their namespaces), through
# the management API (rabbitmq_management; .ci/run enables it).
set -euo pipefail
prefix=$1
api=${OMS_MGMT_URL:-http://guest:guest@localhost:15672/api}
for kind in queues exchanges; do
	curl -fsS "$api/$kind/%2F?columns=name" |
		python3 -c "import json,sys; [print(x['name']) for x in json.load(sys.stdin) if x['name'].startswith(sys.argv[1])]" "$prefix" |
		while read -r name; do
			curl -fsS -X DELETE "$api/$kind/%2F/$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$name")" || true
		done
done
