#!/usr/bin/env bash
# rate-accuracy.sh — how exactly does the load generator keep its schedule,
# compared with vegeta driving the same endpoint in the same session?
#
# One oms-sim serves POST /api/orders (the whole pipeline, its own
# namespace). For each rate, oms-sim's generator (a second process,
# --role none, --driver http --target the first) runs a constant-rate
# phase, then `vegeta attack -rate` runs the same rate for the same time.
# Printed per rate: achieved send rate ÷ target, and for oms-sim the p99 of
# send lateness (intended → actual send). Needs vegeta:
#   go install github.com/tsenart/vegeta/v12@v12.12.0
# Usage: bench/rate-accuracy.sh [DURATION] [RATE...]   (default 20s 100 1000 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-20s}
shift || true
rates=(100 1000 3000)
[ $# -gt 0 ] && rates=("$@")
VEGETA=${VEGETA:-$(command -v vegeta || echo "$(go env GOPATH)/bin/vegeta")}
[ -x "$VEGETA" ] || { echo "vegeta not found: go install github.com/tsenart/vegeta/v12@v12.12.0" >&2; exit 1; }

bin=$(mktemp -d /tmp/rateacc.XXXXXX)
ns=bench-rate-$$
port=5390
go build -o "$bin/oms-sim" .
"$bin/oms-sim" --headless --http 127.0.0.1:$port --namespace "$ns" --events stream \
	--payment-workers 4 --inventory-workers 4 --email-workers 4 >"$bin/server.log" 2>&1 &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$bin"; bench/cleanup-ns.sh "$ns"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

printf 'POST http://127.0.0.1:%s/api/orders\nContent-Type: application/json\n@%s/body.json\n' "$port" "$bin" >"$bin/targets"
echo '{"product_id": 1, "quantity": 1, "user_id": 7}' >"$bin/body.json"

printf '%-8s %-8s %12s %12s %14s %12s\n' rate tool sent/s ratio "late p99 ms" "ok/s"
for rate in "${rates[@]}"; do
	cat >"$bin/s.yaml" <<YAML
name: rate-$rate
phases: [{name: constant, duration: $dur, rate: $rate/s}]
YAML
	"$bin/oms-sim" --scenario "$bin/s.yaml" --headless --role none --driver http \
		--target "http://127.0.0.1:$port" --namespace "$ns" --events stream --http 127.0.0.1:0 \
		--report "$bin/r.json" >/dev/null 2>&1 || true
	python3 - "$bin/r.json" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); p = r["phases"][0]
secs = p["duration_ms"] / 1000
print(f'{rate:<8.0f} {"oms-sim":<8} {p["sent"]/secs:12.1f} {p["sent"]/p["expected"]:12.4f} {r["send_lateness"]["p99_ms"]:14.2f} {p["accepted"]/secs:12.1f}')
PY
	"$VEGETA" attack -targets "$bin/targets" -rate "$rate/s" -duration "$dur" -max-workers 20000 |
		"$VEGETA" report -type json >"$bin/v.json"
	python3 - "$bin/v.json" "$rate" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); rate = float(sys.argv[2])
ok = v["status_codes"].get("202", 0) / (v["duration"] / 1e9) if v["duration"] else 0
print(f'{rate:<8.0f} {"vegeta":<8} {v["rate"]:12.1f} {v["rate"]/rate:12.4f} {"-":>14} {ok:12.1f}')
PY
done
