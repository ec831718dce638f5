#!/usr/bin/env bash
# Query latency benchmark: dashboard-typical range queries (30 s step over 6 h) against
# crmscope-collector and Prometheus 2.42 holding the same 10,280 series x 6 h at 15 s
# (query_bench_data's CRM fleet: request counters, a latency histogram, an in-flight gauge, an
# info metric to join), both on loopback, in one run.
#
#   - Prometheus gets the samples as promtool's blocks of the OpenMetrics file; it is started on
#     a copy and timed only after its first look for compactions (a minute after start) and once
#     idle, so no compaction runs while it is timed;
#   - the collector gets the same file over remote write (load_samples), on a fresh storage
#     directory, and is timed once its CPU has been idle for 3 s;
#   - measure.py checks that both answer alike, then times --runs rounds, alternating who goes
#     first, and prints each query's medians and, last,
#     query_latency_ratio_vs_prometheus=<geometric mean of collector / Prometheus>.
#
# The samples and the blocks are generated once into --cache-dir (about 2 GB) and reused.
# --tested prometheus puts a second Prometheus, loaded over remote write, where the collector
# would be: a check of the benchmark itself (same answers, a ratio near 1).
#
# usage: bench/query/run.sh [--runs N] [--build-dir DIR] [--cache-dir DIR] [--keep]
#          [--tested collector|prometheus]
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
runs=5 keep=0 tested=collector
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
cache=${TMPDIR:-/tmp}/crmscope-query-bench-cache
while (($#)); do
  case $1 in
    --runs) runs=${2:?}; shift ;;
    --build-dir) build_dir=${2:?}; shift ;;
    --cache-dir) cache=${2:?}; shift ;;
    --tested) tested=${2:?}; shift ;;
    --keep) keep=1 ;;
    *) sed -n '/^# usage/,/^# *\[--tested/p' "$0" | sed 's/^# //' >&2; exit 2 ;;
  esac
  shift
done

collector_bin=$build_dir/collector/crmscope-collector
generator_bin=$build_dir/bench/query/query_bench_data
loader_bin=$build_dir/bench/promql_conformance/load_samples
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}
promtool_bin=${PROMTOOL:-/usr/bin/promtool}
for tool in "$collector_bin" "$generator_bin" "$loader_bin" "$prometheus_bin" "$promtool_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (build first?)" >&2; exit 1; }
done

bench_name=query-bench
source "$(dirname "${BASH_SOURCE[0]}")/../server_lib.sh"

# metric URL NAME: the value of an unlabelled sample in a text exposition (empty when absent).
metric() {
  curl -fsS --max-time 10 "$1/metrics" | awk -v n="$2" '$1 == n {v = $2} END {print v}'
}

# wait_idle PID: until the process has used no more than 50 ms of CPU in 3 s (at most 10 min).
wait_idle() {
  local ticks=$(getconf CLK_TCK) before after end=$((SECONDS + 600))
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  before=$(cpu_ticks "$1")
  while ((SECONDS < end)); do
    sleep 3
    after=$(cpu_ticks "$1")
    (((after - before) * 1000 / ticks <= 50)) && return 0
    before=$after
  done
  log "warning: process $1 still busy after 10 min"
}

# --- samples and Prometheus blocks, generated once
if [ ! -s "$cache/info" ] || [ ! -d "$cache/blocks" ] || [ ! -s "$cache/samples.om" ]; then
  log "generating the samples and Prometheus's blocks into $cache (once)"
  rm -rf "$cache"
  mkdir -p "$cache"
  "$generator_bin" --out "$cache/samples.om" >"$cache/info.tmp" || die "query_bench_data failed"
  "$promtool_bin" tsdb create-blocks-from openmetrics -q "$cache/samples.om" "$cache/blocks" \
    >"$work/promtool.log" 2>&1 || die "promtool tsdb create-blocks-from openmetrics failed"
  mv "$cache/info.tmp" "$cache/info"
fi
info=$(cat "$cache/info")
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$info"; }
first_ms=$(field first_ms) last_ms=$(field last_ms)
log "data: $info"

# --- Prometheus on a copy of the blocks, compacted as it would be in steady state
prom_port=$(free_port)
cp -a "$cache/blocks" "$work/prometheus"
echo "global: {}" >"$work/prometheus.yml"
start_server prometheus "$prom_port" "$prometheus_bin" --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus" --web.listen-address="127.0.0.1:$prom_port" \
  --storage.tsdb.retention.time=100y
prom_pid=$server_pid prom_started=$SECONDS

# --- the collector, loaded over remote write while Prometheus starts
col_port=$(free_port)
mkdir -p "$work/collector"
if [ "$tested" = prometheus ]; then
  log "tested side: a second Prometheus, loaded over remote write (a check of the benchmark)"
  start_server collector "$col_port" "$prometheus_bin" --config.file="$work/prometheus.yml" \
    --storage.tsdb.path="$work/collector" --web.listen-address="127.0.0.1:$col_port" \
    --storage.tsdb.retention.time=100y --web.enable-remote-write-receiver
else
  start_server collector "$col_port" "$collector_bin" --web.listen-address="127.0.0.1:$col_port" \
    --storage.path="$work/collector"
  probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    "http://127.0.0.1:$col_port/api/v1/query_range?query=1&start=0&end=0&step=1")
  [ "$probe" != 404 ] || die "the collector has no /api/v1/query_range yet (404)"
fi
col_pid=$server_pid
began=$SECONDS
"$loader_bin" --url "http://127.0.0.1:$col_port/api/v1/write" --file "$cache/samples.om" \
  >"$work/load.out" 2>&1 || die "loading the collector failed: $(cat "$work/load.out")"
log "collector: $(cat "$work/load.out") in $((SECONDS - began)) s"
rejected=$(curl -fsS --max-time 10 "http://127.0.0.1:$col_port/metrics" |
  awk '$1 ~ /^crmscope_(ingest|storage)_samples_rejected_total/ {n += $2} END {print n + 0}')
[ "$rejected" = 0 ] || die "the collector rejected $rejected samples"

# Prometheus looks for compactions a minute after start, then every minute; past that look, and
# idle, it runs none while timed. (For this data it keeps promtool's three 2 h blocks: the planner
# leaves the newest block alone and the other two do not fill a 6 h range.)
while ((SECONDS - prom_started < 75)); do sleep 1; done
wait_idle "$prom_pid"
log "prometheus: $(metric "http://127.0.0.1:$prom_port" prometheus_tsdb_blocks_loaded) blocks," \
  "$(metric "http://127.0.0.1:$prom_port" prometheus_tsdb_compactions_total) compactions"
wait_idle "$col_pid"

python3 "$source_dir/bench/query/measure.py" --collector "http://127.0.0.1:$col_port" \
  --prometheus "http://127.0.0.1:$prom_port" --start-ms "$first_ms" --end-ms "$last_ms" \
  --step 30 --runs "$runs"
