#!/usr/bin/env bash
# Render an HTML report in headless Chromium (Debian's chromium) with the
# network cut off, check every chart was drawn, and screenshot it.
#
#   scripts/report-check.sh                       run a short scenario on the real RabbitMQ, check its report
#   scripts/report-check.sh REPORT.html [OUT.png] check a report you have
#
# The screenshot goes to OUT.png (default: report-check.png in $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
	echo "report-check: no chromium on PATH (apt-get install -y chromium)" >&2
	exit 2
fi
work=$(mktemp -d)
ns=report-check-$$
trap 'rm -rf "$work"; bench/cleanup-ns.sh "$ns" >/dev/null 2>&1 || true' EXIT

report=${1:-}
out=${2:-${TMPDIR:-/tmp}/report-check.png}
if [[ -z "$report" ]]; then
	cat >"$work/check.yaml" <<'YAML'
name: report-check
description: Two phases and an action, so the charts have bands and a marker.
seed: 7
stages:
  payment: {workers: 2, service_time: {dist: lognormal, median: 2ms, p99: 10ms}, decline_rate: 0.05}
phases:
  - {name: calm, duration: 4s, rate: 50/s}
  - {name: busy, duration: 4s, rate: {from: 100/s, to: 300/s}}
actions:
  - {at: 5s, scale: {stage: payment, workers: 4}}
thresholds:
  - {metric: lost_orders, max: 0}
YAML
	go build -o "$work/oms-sim" .
	report=$work/report.html
	"$work/oms-sim" --scenario "$work/check.yaml" --headless --broker rabbitmq --events memory \
		--namespace "$ns" --http 127.0.0.1:0 --report "$report" --report "$work/report.json" >/dev/null
fi

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
	--disable-component-update --disable-sync --user-data-dir="$work/profile"
	--proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' --virtual-time-budget=5000)
url="file://$(realpath "$report")"
"$browser" "${flags[@]}" --window-size=1200,2600 --dump-dom "$url" 2>/dev/null >"$work/dom.html"
charts=$(grep -o 'data-charts="[0-9]*"' "$work/dom.html" | head -1 | tr -dc 0-9)
canvases=$(grep -o '<canvas' "$work/dom.html" | wc -l)
if [[ -z "$charts" || "$charts" -lt 1 || "$canvases" -ne "$charts" ]]; then
	echo "report-check: $report drew ${charts:-no} charts with $canvases canvases" >&2
	exit 1
fi
"$browser" "${flags[@]}" --window-size=1200,2600 --screenshot="$out" "$url" 2>/dev/null
echo "report-check: $report: $charts charts drawn, $(wc -c <"$report") bytes; screenshot $out"
