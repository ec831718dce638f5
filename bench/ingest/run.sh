#!/usr/bin/env bash
# Remote-write ingest benchmark: crmscope-collector against Prometheus 2.42's receiver, on loopback,
# with byte-identical requests of CRM-shaped series (see crm_series.h).
#
# Per run, each server gets a fresh data directory and all the requests (ingest_sender, N
# connections); we record samples/s and its peak RSS (VmHWM). The collector's bytes per sample are
# its storage directory after a clean shutdown (SIGTERM); Prometheus's are the blocks promtool
# builds from the same samples (what its head compacts into), plus, for reference, its data
# directory after the run (WAL + head chunks, not yet compacted). Medians over --runs.
#
# usage: bench/ingest/run.sh [--series N] [--steps N] [--runs N] [--threads N]
#          [--interval-ms MS] [--series-per-request N] [--build-dir DIR] [--cache-dir DIR]
# The last two lines printed are ingest_ratio_vs_prometheus=... and
# bytes_per_sample_ratio_vs_prometheus=..., collector over Prometheus.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
series=10000 steps=360 runs=3 threads=4 interval_ms=15000 per_request=2000
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
cache_root=${TMPDIR:-/tmp}/crmscope-ingest-cache
while (($#)); do
  case $1 in
    --series) series=$2 ;;
    --steps) steps=$2 ;;
    --runs) runs=$2 ;;
    --threads) threads=$2 ;;
    --interval-ms) interval_ms=$2 ;;
    --series-per-request) per_request=$2 ;;
    --build-dir) build_dir=$2 ;;
    --cache-dir) cache_root=$2 ;;
    *) sed -n '/^# usage/,/^# bytes_per/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift 2
done

collector_bin=$build_dir/collector/crmscope-collector
generator_bin=$build_dir/bench/ingest/ingest_payload_gen
sender_bin=$build_dir/bench/ingest/ingest_sender
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}
promtool_bin=${PROMTOOL:-/usr/bin/promtool}
for tool in "$collector_bin" "$generator_bin" "$sender_bin" "$prometheus_bin" "$promtool_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (build first?)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/crmscope-ingest-bench.XXXXXX")
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill -KILL -- "-$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server LOG COMMAND...: in its own process group; sets server_pid.
start_server() {
  local log_file=$1; shift
  setsid "$@" >"$log_file" 2>&1 &
  server_pid=$!
}

wait_ready() {
  local url=$1 end=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    kill -0 "$server_pid" 2>/dev/null || die "server exited while starting: $(tail -n 5 "$2")"
    ((SECONDS < end)) || die "server not ready after 60 s: $(tail -n 5 "$2")"
    sleep 0.1
  done
}

peak_rss_bytes() { awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$server_pid/status"; }

# Stops the server with SIGTERM, waiting up to 120 s (the collector checkpoints on the way out).
stop_server() {
  local i status=0
  kill -TERM "$server_pid"
  for ((i = 0; i < 1200; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL -- "-$server_pid"
    die "server $server_pid did not stop within 120 s of SIGTERM"
  fi
  wait "$server_pid" || status=$?
  server_pid=""
  ((status == 0)) || log "warning: server exited with status $status"
}

# metric_sum URL NAME_REGEX: the sum of the matching families' samples in a text exposition.
metric_sum() {
  curl -fsS --max-time 10 "$1" | python3 -c '
import re, sys
pattern = re.compile(sys.argv[1])
total = 0.0
for line in sys.stdin:
    if line.startswith("#") or not line.strip():
        continue
    name = re.split(r"[{ ]", line, maxsplit=1)[0]
    if pattern.fullmatch(name):
        total += float((line.rsplit("}", 1)[1] if "{" in line else line[len(name):]).split()[0])
print(int(total))' "$2"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
divide() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", a / b}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }

# --- payloads, generated once per shape (regenerated after 12 h so they stay recent: the
# collector refuses samples older than its retention)
cache=$cache_root/${series}x${steps}x${interval_ms}ms-${per_request}
if [ ! -s "$cache/payloads.info" ] || [ -n "$(find "$cache/payloads.info" -mmin +720)" ]; then
  log "generating payloads into $cache"
  rm -rf "$cache"
  "$generator_bin" --out "$cache" --series "$series" --steps "$steps" --interval-ms "$interval_ms" \
    --series-per-request "$per_request" --openmetrics >&2
  # Prometheus's bytes per sample, from the blocks promtool builds of the same samples.
  "$promtool_bin" tsdb create-blocks-from openmetrics "$cache/samples.om" "$work/blocks" >/dev/null ||
    die "promtool tsdb create-blocks-from openmetrics failed"
  du -sb "$work/blocks" | cut -f1 >"$cache/promtool_block_bytes"
  rm -rf "$work/blocks" "$cache/samples.om"  # hundreds of MB, needed only for that size
fi
samples=$(sed -n 's/^samples=//p' "$cache/payloads.info")
requests=$(sed -n 's/^requests=//p' "$cache/payloads.info")
prometheus_block_bytes=$(cat "$cache/promtool_block_bytes")
log "$series series x $steps steps = $samples samples in $requests requests, $threads connections"

# send NAME URL: posts every payload; prints samples/s.
send() {
  local out
  out=$("$sender_bin" --url "$2" --payloads "$cache" --threads "$threads") ||
    die "$1: sending failed: $out"
  sed -n 's/.*samples_per_second=\([0-9.]*\).*/\1/p' <<<"$out"
}

run_collector() {
  local run=$1 port data rate rss accepted rejected bytes
  port=$(free_port)
  data=$work/collector-$run
  mkdir -p "$data"
  start_server "$work/collector-$run.log" "$collector_bin" --web.listen-address="127.0.0.1:$port" \
    --storage.path="$data"
  wait_ready "http://127.0.0.1:$port/-/ready" "$work/collector-$run.log"
  rate=$(send collector "http://127.0.0.1:$port/api/v1/write")
  accepted=$(metric_sum "http://127.0.0.1:$port/metrics" 'crmscope_ingest_samples_total')
  rejected=$(metric_sum "http://127.0.0.1:$port/metrics" 'crmscope_ingest_samples_rejected_total')
  ((accepted == samples && rejected == 0)) ||
    die "collector stored $accepted of $samples samples, rejected $rejected"
  rss=$(peak_rss_bytes)
  stop_server
  bytes=$(du -sb "$data" | cut -f1)
  rm -rf "$data"
  echo "$rate $rss $(divide "$bytes" "$samples")" >>"$work/collector.results"
  echo "run $run collector:  $rate samples/s, peak RSS $(mib "$rss"), $(divide "$bytes" "$samples") bytes/sample on disk"
}

run_prometheus() {
  local run=$1 port data rate rss appended bytes
  port=$(free_port)
  data=$work/prometheus-$run
  mkdir -p "$data"
  echo "global: {}" >"$work/prometheus.yml"
  start_server "$work/prometheus-$run.log" "$prometheus_bin" --config.file="$work/prometheus.yml" \
    --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port" \
    --web.enable-remote-write-receiver
  wait_ready "http://127.0.0.1:$port/-/ready" "$work/prometheus-$run.log"
  rate=$(send prometheus "http://127.0.0.1:$port/api/v1/write")
  appended=$(metric_sum "http://127.0.0.1:$port/metrics" 'prometheus_tsdb_head_samples_appended_total')
  ((appended == samples)) || die "Prometheus appended $appended of $samples samples"
  rss=$(peak_rss_bytes)
  stop_server
  bytes=$(du -sb "$data" | cut -f1)
  rm -rf "$data"
  echo "$rate $rss $(divide "$bytes" "$samples")" >>"$work/prometheus.results"
  echo "run $run prometheus: $rate samples/s, peak RSS $(mib "$rss"), $(divide "$bytes" "$samples") bytes/sample in WAL+head"
}

: >"$work/collector.results"
: >"$work/prometheus.results"
for ((run = 1; run <= runs; run++)); do
  # Alternating who goes first spreads a slow phase of the machine over both sides.
  if ((run % 2)); then
    run_collector "$run"
    run_prometheus "$run"
  else
    run_prometheus "$run"
    run_collector "$run"
  fi
done

column_median() { awk -v c="$1" '{print $c}' "$2" | median; }
c_rate=$(column_median 1 "$work/collector.results")
p_rate=$(column_median 1 "$work/prometheus.results")
c_rss=$(column_median 2 "$work/collector.results")
p_rss=$(column_median 2 "$work/prometheus.results")
c_bps=$(column_median 3 "$work/collector.results")
p_wal_bps=$(column_median 3 "$work/prometheus.results")
p_bps=$(divide "$prometheus_block_bytes" "$samples")

echo "== medians of $runs runs: $series series x $steps steps = $samples samples, $threads connections"
echo "collector_samples_per_second=$c_rate"
echo "prometheus_samples_per_second=$p_rate"
echo "collector_peak_rss=$(mib "$c_rss")"
echo "prometheus_peak_rss=$(mib "$p_rss")"
echo "collector_bytes_per_sample=$c_bps  (storage dir after SIGTERM)"
echo "prometheus_bytes_per_sample=$p_bps  (promtool blocks of the same samples)"
echo "prometheus_wal_head_bytes_per_sample=$p_wal_bps  (data dir after the run, uncompacted)"
echo "ingest_ratio_vs_prometheus=$(divide "$c_rate" "$p_rate")"
echo "bytes_per_sample_ratio_vs_prometheus=$(divide "$c_bps" "$p_bps")"
