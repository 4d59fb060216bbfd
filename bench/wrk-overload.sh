#!/usr/bin/env bash
# wrk-overload.sh — what the order API and its figures do under overload:
# a headless oms-sim with its defaults (plus FLAGS), wrk POSTing the seed's
# order from CONNS connections for DURATION, then the drain. Prints wrk's
# answers by status and POST latency, oms-sim's RSS before, at peak and
# after the drain, and the snapshot's figures, and checks that they add up:
# every 202 is an accepted order, every accepted order ends once (open 0,
# one e2e sample each), every 503 is shed or unavailable.
#
#   bench/wrk-overload.sh                          # 400 conns, 25 s, defaults (--max-backlog 10000)
#   FLAGS="--max-backlog 0" bench/wrk-overload.sh  # no admission control
#   FLAGS="--recent-orders 2000" KEYS=1 bench/wrk-overload.sh   # an Idempotency-Key per POST
#
# Needs wrk (apt-get install wrk) and RabbitMQ with the management plugin
# (for the namespace's clean-up).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk-overload.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
CONNS=${CONNS:-400}
DURATION=${DURATION:-25s}
PORT=${PORT:-5057}
KEYS=${KEYS:-0}
read -r -a FLAGS <<<"${FLAGS:-}"
BIN=$(mktemp -d /tmp/wrk.XXXXXX)
NS=bench-wrk-$$
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; bench/cleanup-ns.sh "$NS." >/dev/null 2>&1 || true; rm -rf "$BIN"' EXIT
go build -o "$BIN/oms-sim" .

cat >"$BIN/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"product_id": 1, "quantity": 2, "user_id": 100}'
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) thread:set("id", #threads) table.insert(threads, thread) end
function init(args) codes = {} n = 0 end
function request()
  n = n + 1
  if $KEYS == 1 then
    -- a headers table replaces wrk.headers: name Content-Type again
    return wrk.format(nil, nil, {["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("%d-%d-%d", os.time(), id, n)})
  end
  return wrk.format()
end
function response(status, headers, body) codes[status] = (codes[status] or 0) + 1 end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
  end
  for k, v in pairs(all) do io.write(string.format("status %d %d\n", k, v)) end
  io.write(string.format("socket_errors connect %d read %d write %d timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
LUA

rss() { awk '/VmRSS/{print int($2/1024)}' "/proc/$PID/status" 2>/dev/null || echo 0; }
"$BIN/oms-sim" --headless --http "127.0.0.1:$PORT" --namespace "$NS" --status-every 1h "${FLAGS[@]}" >"$BIN/out" 2>"$BIN/err" &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "# $(date -u +%FT%TZ)  $(nproc) cores  load $(cut -d' ' -f1-3 /proc/loadavg)  wrk -t2 -c$CONNS -d$DURATION  keys=$KEYS  flags: ${FLAGS[*]:-(defaults)}"
before=$(rss)
peak=$before
( while kill -0 "$PID" 2>/dev/null; do rss; sleep 0.5; done ) >"$BIN/rss" &
SAMPLER=$!
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$BIN/post.lua" "http://127.0.0.1:$PORT/api/orders" | tee "$BIN/wrk"
start=$SECONDS
while :; do
  open=$(curl -fs "http://127.0.0.1:$PORT/api/snapshot" | jq '.orders.open')
  [ "$open" = 0 ] && break
  [ $((SECONDS - start)) -gt 600 ] && { echo "not drained after 600 s (open $open)"; break; }
  sleep 1
done
drain=$((SECONDS - start))
sleep 1
after=$(rss)
kill "$SAMPLER" 2>/dev/null || true
peak=$(sort -n "$BIN/rss" | tail -1)
curl -fs "http://127.0.0.1:$PORT/api/snapshot" >"$BIN/snap.json"
echo "RSS MiB: before $before, peak $peak, after the drain $after (drained in ${drain}s)"
jq -r '"orders   " + (.orders | tostring),
       "api      accepted \(.api.accepted) shed \(.api.shed) unavailable \(.api.unavailable) (indeterminate \(.api.indeterminate)) rejected \(.api.rejected)",
       "e2e      count \(.e2e.count) p50 \(.e2e.p50/1e6)ms p99 \(.e2e.p99/1e6)ms max \(.e2e.max/1e6)ms",
       "queues   peak ready " + ([.queues[] | "\(.queue)=\(.peak_ready)"] | join(" ")),
       "stages   peak ρ " + ([.stages[] | "\(.name)=\(.peak_utilisation*100|floor)%"] | join(" "))' "$BIN/snap.json"
python3 - "$BIN/wrk" "$BIN/snap.json" "$CONNS" <<'PY'
import json, re, sys
codes = {int(m[1]): int(m[2]) for m in re.finditer(r"^status (\d+) (\d+)$", open(sys.argv[1]).read(), re.M)}
s = json.load(open(sys.argv[2])); o, api = s["orders"], s["api"]
conns = int(sys.argv[3])
answered = api["accepted"] + api["shed"] + api["unavailable"] + api["rejected"]
read = sum(codes.values())
# wrk stops with a request open on each connection; the API still answers
# those (to a closed socket), so it answers up to CONNS more than wrk read.
checks = [
    ("wrk's requests were accepted (some 202s)", codes.get(202, 0) > 0, True),
    (f"the API answered wrk's {read} and at most {conns} left open at the end", 0 <= answered - read <= conns, True),
    (f"accepted: wrk's {codes.get(202, 0)} 202s and at most {conns} more", 0 <= api["accepted"] - codes.get(202, 0) <= conns, True),
    ("the ledger counts each accepted order", api["accepted"], o["accepted"]),
    ("accepted = ended + open", o["accepted"], o["confirmed"] + o["payment_failed"] + o["refunded"] + o["dead_lettered"] + o["open"]),
    ("open after the drain", o["open"], 0),
    ("one e2e sample per ended order", s["e2e"]["count"], o["accepted"] - o["open"]),
    ("every 503 wrk read is shed or unavailable", codes.get(503, 0) <= api["shed"] + api["unavailable"], True),
    ("duplicated", o["duplicated"], 0),
]
bad = 0
for what, got, want in checks:
    ok = got == want
    bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {got} (want {want})")
print(f"503s whose order ran anyway (recovered): {o['recovered']} of {o['indeterminate']} indeterminate; orphaned {o['orphaned']}")
sys.exit(1 if bad else 0)
PY
