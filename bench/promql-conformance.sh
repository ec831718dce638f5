#!/usr/bin/env bash
# PromQL conformance: the public compliance queries against crmscope-collector and Prometheus 2.42
# holding the same samples, compared as the compliance tester compares them
# (../shared/conformance/promql/README.md; bench/promql_conformance/compare.py says how).
#
#   1. demo_data.py writes, deterministically, 2 h of PromLabs' demo-service series for three
#      targets scraped every 5 s (a restart with counter resets, a metric that disappears and
#      returns) as OpenMetrics text;
#   2. the reference: promtool tsdb create-blocks-from openmetrics, then Prometheus started on
#      those blocks, on loopback;
#   3. the tested server: crmscope-collector on a fresh storage directory, sent the same file over
#      remote write by load_samples (or, with --tested prometheus, a second Prometheus with its
#      remote-write receiver: Prometheus against itself must pass every case, which checks the
#      data, the loading and the comparison);
#   4. compare.py expands the queries file, runs every case as a range query against both and
#      prints a diff for each failure and, last, passed=<n> failed=<n> unsupported=<n> total=<n>.
#
# With --stale-markers the data also holds the stale markers a real scrape writes when a series
# vanishes; promtool cannot read them, so the reference is then loaded over remote write too.
#
# usage: bench/promql-conformance.sh [--queries FILE] [--quick] [--build-dir DIR]
#          [--match REGEX] [--tested collector|prometheus] [--stale-markers] [--keep]
# Exit status: 0 when every case passed, 1 otherwise, 3 when the collector has no
# /api/v1/query_range yet (404), 2 on a usage error.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/.." && pwd)
queries=$source_dir/../shared/conformance/promql/promql-test-queries.yml
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
tested=collector quick=() match=() stale_markers=() keep=0
usage() { sed -n '/^# usage/,/^# \/api/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --queries) queries=${2:?}; shift ;;
    --build-dir) build_dir=${2:?}; shift ;;
    --match) match=(--match "${2:?}"); shift ;;
    --tested) tested=${2:?}; shift ;;
    --quick) quick=(--quick) ;;
    --stale-markers) stale_markers=(--stale-markers) ;;
    --keep) keep=1 ;;
    *) usage ;;
  esac
  shift
done
[[ $tested == collector || $tested == prometheus ]] || usage

collector_bin=$build_dir/collector/crmscope-collector
loader_bin=$build_dir/bench/promql_conformance/load_samples
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}
promtool_bin=${PROMTOOL:-/usr/bin/promtool}
harness=$source_dir/bench/promql_conformance
for tool in "$loader_bin" "$prometheus_bin" "$promtool_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "promql-conformance: $tool not found (build first?)" >&2; exit 1; }
done
[ "$tested" = prometheus ] || command -v "$collector_bin" >/dev/null ||
  { echo "promql-conformance: $collector_bin not found (build first?)" >&2; exit 1; }
[ -r "$queries" ] || { echo "promql-conformance: cannot read $queries" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null ||
  { echo "promql-conformance: python3 needs PyYAML (Debian: python3-yaml)" >&2; exit 1; }

bench_name=promql-conformance
source "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

start_prometheus() {
  local name=$1 port=$2; shift 2
  echo "global: {}" >"$work/prometheus.yml"
  mkdir -p "$work/$name"
  # Retention counts back from the newest block, so the fixed past dates of the data stay.
  start_server "$name" "$port" "$prometheus_bin" --config.file="$work/prometheus.yml" \
    --storage.tsdb.path="$work/$name" --web.listen-address="127.0.0.1:$port" \
    --storage.tsdb.retention.time=100y "$@"
}

# load NAME URL: sends the samples over remote write; a 2xx must also mean nothing was dropped.
load() {
  "$loader_bin" --url "$2/api/v1/write" --file "$work/samples.om" >"$work/load-$1.out" 2>&1 ||
    die "loading into $1 failed: $(cat "$work/load-$1.out")"
  log "$1: $(cat "$work/load-$1.out")"
  local rejected
  rejected=$(curl -fsS --max-time 10 "$2/metrics" |
    awk '$1 ~ /^crmscope_(ingest|storage)_samples_rejected_total/ {n += $2} END {print n + 0}')
  [ "$rejected" = 0 ] || die "$1 rejected $rejected samples"
}

# The tested server first, so that a collector without the query API is found out at once.
test_port=$(free_port)
test_url=http://127.0.0.1:$test_port
if [ "$tested" = prometheus ]; then
  start_prometheus tested "$test_port" --web.enable-remote-write-receiver
else
  mkdir -p "$work/collector"
  start_server collector "$test_port" "$collector_bin" --web.listen-address="127.0.0.1:$test_port" \
    --storage.path="$work/collector"
  probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    "$test_url/api/v1/query_range?query=1&start=0&end=0&step=1")
  if [ "$probe" = 404 ]; then
    log "promql-conformance: the collector has no /api/v1/query_range yet (404); nothing to compare"
    exit 3
  fi
fi

newest_ms=$(python3 "$harness/demo_data.py" --out "$work/samples.om" "${stale_markers[@]}" |
  sed -n 's/^newest_ms=//p')
[ -n "$newest_ms" ] || die "generating the data failed"
log "data: $(grep -vc '^#' "$work/samples.om") samples, newest at $newest_ms ms"

ref_port=$(free_port)
ref_url=http://127.0.0.1:$ref_port
if ((${#stale_markers[@]})); then
  start_prometheus reference "$ref_port" --web.enable-remote-write-receiver
  load reference "$ref_url"
else
  "$promtool_bin" tsdb create-blocks-from openmetrics "$work/samples.om" "$work/reference" \
    >"$work/promtool.log" 2>&1 || die "promtool tsdb create-blocks-from openmetrics failed"
  start_prometheus reference "$ref_port"
fi

load "$tested" "$test_url"

status=0
python3 "$harness/compare.py" --queries "$queries" --reference "$ref_url" --tested "$test_url" \
  --newest-ms "$newest_ms" "${quick[@]}" "${match[@]}" || status=$?
exit "$status"
