#!/usr/bin/env bash
# html-size.sh — the HTML report's size for a 10-minute run (issue 16).
# Runs a 10-minute scenario (three phases, two actions, 20 orders/s on
# average: the series' size depends on the run's length, not its rate) on
# the real RabbitMQ with --report .html/.json/.txt and prints each file's
# size and the series' point count.
#
#   bench/html-size.sh [MINUTES]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
min=${1:-10}
work=$(mktemp -d /tmp/html-size.XXXXXX)
ns=html-size-$$
trap 'rm -rf "$work"; bench/cleanup-ns.sh "$ns" >/dev/null 2>&1 || true' EXIT
go build -o "$work/oms-sim" .
third=$((min * 20))
cat >"$work/ten.yaml" <<YAML
name: html-size
description: ${min} minutes in three phases with two actions, for the report's size.
seed: 3
stages:
  payment: {workers: 2, service_time: {dist: lognormal, median: 2ms, p99: 10ms}, decline_rate: 0.02}
phases:
  - {name: low,  duration: ${third}s, rate: 10/s}
  - {name: wave, duration: ${third}s, rate: {sine: {mean: 30/s, amplitude: 20/s, period: 60s}}}
  - {name: high, duration: ${third}s, rate: 20/s}
actions:
  - {at: $((third / 2))s, scale: {stage: payment, workers: 4}}
  - {at: $((third * 2))s, fault: {stage: payment, decline_rate: 0.5, for: 30s}}
thresholds:
  - {metric: lost_orders, max: 0}
YAML
"$work/oms-sim" --scenario "$work/ten.yaml" --headless --broker rabbitmq --events memory --namespace "$ns" \
	--http 127.0.0.1:0 --report "$work/r.html" --report "$work/r.json" --report "$work/r.txt" >/dev/null 2>"$work/err" || {
	cat "$work/err" >&2
	exit 1
}
points=$(python3 -c "import json; print(len(json.load(open('$work/r.json'))['series']['points']))")
gz=$(gzip -c "$work/r.html" | wc -c)
printf '%d-minute run: %d series points; report.html %d B (gzip %d B), report.json %d B, report.txt %d B; uPlot inline %d B\n' \
	"$min" "$points" "$(wc -c <"$work/r.html")" "$gz" "$(wc -c <"$work/r.json")" "$(wc -c <"$work/r.txt")" \
	"$(cat internal/uplot/uPlot.iife.min.js internal/uplot/uPlot.min.css | wc -c)"
