#!/usr/bin/env bash
# The agent's footprint against node_exporter's on the same host over the same minutes.
#
# `crmscope demo` runs at --rate requests/s (2 nodes). Beside it, one crmscope-agent with a 1 s
# interval does what the issue lists: tails nginx's access log, reads stub_status, scrapes one
# node, probes its /healthz and samples the host (CPU, memory, load, disks, network, filesystems)
# and the node's process, shipping everything to the demo's collector. Over the same windows
# Debian's prometheus-node-exporter (default collectors) is scraped once a second, as a
# Prometheus with a 1 s scrape_interval would. For each window of --window seconds we read each
# process's CPU time (utime + stime from /proc/PID/stat) and RSS (VmRSS), and report medians
# over --runs windows.
#
# usage: bench/agent/footprint.sh [--rate 200] [--window 60] [--runs 3] [--build-dir DIR]
# Prints agent_cpu_pct_of_core, agent_rss_mib, node_exporter_cpu_pct_of_core,
# node_exporter_rss_mib, and last: agent_rss_ratio_vs_node_exporter=<agent/node_exporter>
# (targets: RSS ratio <= 1, agent CPU <= 1% of a core).
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
rate=200 window=60 runs=3
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
while (($#)); do
  case $1 in
    --rate) rate=$2 ;;
    --window) window=$2 ;;
    --runs) runs=$2 ;;
    --build-dir) build_dir=$2 ;;
    *) sed -n '/^# usage/,/^# (targets/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift 2
done

crmscope=$build_dir/crm_demo/launcher/crmscope
agent=$build_dir/agent/core/crmscope-agent
node_exporter=$(command -v prometheus-node-exporter || true)
for tool in "$crmscope" "$agent" "$node_exporter" curl python3; do
  [ -n "$tool" ] && command -v "$tool" >/dev/null || { echo "footprint.sh: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/crmscope-footprint.XXXXXX")
pids=()
scraper_pid=
cleanup() {
  [ -n "$scraper_pid" ] && kill "$scraper_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "footprint.sh: $*" >&2; exit 1; }
log() { echo "$*" >&2; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

run_dir=$work/demo
# The demo must outlast every window (its default --duration is 90 s): measured after it ends,
# the agent would only be retrying against a stopped collector.
demo_seconds=$((60 + runs * window + 60))
"$crmscope" demo --run-dir "$run_dir" --build-dir "$build_dir" --nodes 2 --rate "$rate" \
  --customers 20000 --orders 100000 --tickets 20000 --table-interval 60s \
  --duration "${demo_seconds}s" >"$work/demo.out" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
for _ in $(seq 600); do [ -f "$run_dir/stack.json" ] && break; sleep 0.2; done
[ -f "$run_dir/stack.json" ] || die "the demo did not start: $(tail -n 5 "$work/demo.out")"
stack() {
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$run_dir/stack.json" "$1"
}
collector=$(stack collector.url) stub_status=$(stack nginx.stub_status_url) node=$(stack nodes.0.url)
node_pid=$(stack nodes.0.process.pid)
echo "$node_pid" >"$work/node.pid"
format=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["nginx_log_format"].split("'"'"'")[1])' \
  "$run_dir/nginx/access_log_format.json")

cat >"$work/agent.yml" <<YAML
global:
  interval: 1s
sources:
  nginx_log:
    - path: $run_dir/nginx/logs/access.log
      log_format: '$format'
  stub_status:
    - url: $stub_status
  scrape:
    - job_name: crm-node
      static_configs: [{targets: ['${node#http://}']}]
  probes:
    - name: crm-node-health
      url: $node/healthz
  host:
    processes: [{name: crm-node, pidfile: $work/node.pid}]
remote_write:
  - name: collector
    url: $collector/api/v1/write
YAML
agent_port=$(free_port) exporter_port=$(free_port)
"$agent" --config.file="$work/agent.yml" --web.listen-address=127.0.0.1:"$agent_port" \
  --storage.path="$work/agent-data" >"$work/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
"$node_exporter" --web.listen-address=127.0.0.1:"$exporter_port" >"$work/node_exporter.log" 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
# A Prometheus-like scraper of node_exporter, once a second (its own cost is not measured).
(while kill -0 "$exporter_pid" 2>/dev/null; do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$exporter_port/metrics" || true
  sleep 1
done) &
scraper_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$agent_port/-/ready" 2>/dev/null && break
  sleep 0.1
done
sleep 10  # both warm: first scrapes done, caches and series tables filled

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
: >"$work/results"
for ((run = 1; run <= runs; run++)); do
  a0=$(cpu_ticks "$agent_pid") e0=$(cpu_ticks "$exporter_pid")
  sleep "$window"
  a1=$(cpu_ticks "$agent_pid") e1=$(cpu_ticks "$exporter_pid")
  kill -0 "$demo_pid" 2>/dev/null || die "the demo stopped during window $run: $(tail -n 3 "$work/demo.out")"
  line=$(python3 -c 'import sys
a0,a1,e0,e1,hz,w,ar,er = map(float, sys.argv[1:])
print("%.3f %.1f %.3f %.1f" % (100*(a1-a0)/hz/w, ar/1024, 100*(e1-e0)/hz/w, er/1024))' \
    "$a0" "$a1" "$e0" "$e1" "$hz" "$window" "$(rss_kib "$agent_pid")" "$(rss_kib "$exporter_pid")")
  echo "$line" >>"$work/results"
  read -r acpu arss ecpu erss <<<"$line"
  log "window $run: agent ${acpu}% of a core, ${arss} MiB RSS; node_exporter ${ecpu}%, ${erss} MiB"
done
# Every source must have worked throughout, or the agent measured less than the issue's work.
if grep -E 'level=(warn|error)' "$work/agent.log" >&2; then
  die "the agent logged the problems above during the run"
fi
agent_metric() {
  curl -fsS "http://127.0.0.1:$agent_port/metrics" | awk -v m="$1" '$1 ~ "^"m {print $2; exit}'
}
log "agent samples sent to the collector: $(agent_metric crmscope_agent_samples_sent_total)," \
  "retried: $(agent_metric crmscope_agent_samples_retried_total)," \
  "queue bytes at the end: $(agent_metric crmscope_agent_queue_bytes)"
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
acpu, arss, ecpu, erss = (statistics.median(c) for c in zip(*rows))
print("agent_cpu_pct_of_core=%.3f agent_rss_mib=%.1f (median of %d windows)" % (acpu, arss, len(rows)))
print("node_exporter_cpu_pct_of_core=%.3f node_exporter_rss_mib=%.1f" % (ecpu, erss))
print("agent_cpu_ratio_vs_node_exporter=%.3f" % (acpu / ecpu if ecpu else float("nan")))
print("agent_rss_ratio_vs_node_exporter=%.3f" % (arss / erss))
PY
