#!/usr/bin/env bash
# The demo stack's capacity and the price of its instrumentation, on loopback.
#
# 1. Saturation through nginx: `crmscope demo --rate 0` (N nodes, round robin, no load of its
#    own), then closed loops against nginx: crm-loadgen with the CRM mix (reads and writes,
#    Zipf customers) and wrk with a read mix, --connections each. Requests/s and p99, medians
#    over --runs. Client and stack share this machine's CPUs, so on a small machine this is the
#    capacity of the machine as much as of the stack.
# 2. Instrumentation overhead: two single crm-nodes over the same database, one with
#    --metrics=on and one with --metrics=off, both pinned to CPU 0 with wrk pinned to CPU 1
#    (when there are two CPUs). Runs alternate which node goes first, so a busy phase of the
#    machine hits both; the overhead is 1 - median(on)/median(off) of requests/s. Also the node's
#    CPU time per request (from /proc/PID/stat), which a machine shared with other work disturbs
#    far less than throughput does.
#
#    When valgrind is installed, also the user-space instructions per request on and off
#    (callgrind): exact, so it settles what a loaded machine's throughput cannot.
#
# usage: bench/stack/run.sh [--runs 5] [--duration 10s] [--connections 32] [--node-connections 8]
#          [--nodes 3] [--build-dir DIR] [--skip-stack] [--skip-overhead]
# The last line is instrumentation_overhead_pct=<percent> (the issue's target: at most 3).
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
runs=5 duration=10s connections=32 node_connections=8 nodes=3 skip_stack=0 skip_overhead=0
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
while (($#)); do
  case $1 in
    --runs) runs=$2 ;;
    --duration) duration=$2 ;;
    --connections) connections=$2 ;;
    --node-connections) node_connections=$2 ;;
    --nodes) nodes=$2 ;;
    --build-dir) build_dir=$2 ;;
    --skip-stack) skip_stack=1; shift; continue ;;
    --skip-overhead) skip_overhead=1; shift; continue ;;
    *) sed -n '/^# usage/,/^# The last/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift 2
done

crmscope=$build_dir/crm_demo/launcher/crmscope
node_bin=$build_dir/crm_demo/node/crm-node
loadgen_bin=$build_dir/crm_demo/loadgen/crm-loadgen
for tool in "$crmscope" "$node_bin" "$loadgen_bin" wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (build first?)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/crmscope-stack-bench.XXXXXX")
launcher_pid="" node_pids=()
cleanup() {
  if [ -n "$launcher_pid" ]; then
    kill -INT "$launcher_pid" 2>/dev/null || true
    wait "$launcher_pid" 2>/dev/null || true
  fi
  for pid in "${node_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "$*" >&2; }

customers=20000
db_flags=(--customers "$customers" --orders 100000 --tickets 20000)
server_cpu=() client_cpu=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi

# Reads only, uniform over the customers, so the two nodes of the overhead comparison see the
# same work: 60% customer by id, 20% their orders, 20% open tickets.
cat >"$work/reads.lua" <<LUA
local customers = $customers
local n = 0
request = function()
  n = n + 1
  local id = math.random(1, customers)
  local k = n % 10
  if k < 6 then return wrk.format("GET", "/api/customers/" .. id) end
  if k < 8 then return wrk.format("GET", "/api/customers/" .. id .. "/orders?limit=10") end
  return wrk.format("GET", "/api/tickets?status=open&limit=10")
end
LUA

# run_wrk URL CONNECTIONS [CPU PIN...]: prints "requests/s p99_ms requests"; fails on non-2xx
# answers.
run_wrk() {
  local url=$1 conns=$2; shift 2
  "$@" wrk -t1 -c"$conns" -d"$duration" --latency -s "$work/reads.lua" "$url" >"$work/wrk.out" ||
    die "wrk failed: $(cat "$work/wrk.out")"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if bad:
    sys.exit(f"wrk: {bad.group(1)} responses without a 2xx:\n{text}")
scale = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
value, unit = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
print(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), float(value) * scale[unit],
      int(re.search(r"(\d+) requests in", text).group(1)))
PY
}

# run_loadgen URL: crm-loadgen closed loop with the CRM mix; prints "requests/s p99_ms".
run_loadgen() {
  "$loadgen_bin" --target="$1" --closed-loop --concurrency="$connections" --duration="$duration" \
    --db="$db" --report-interval=0s --json="$work/loadgen.json" >"$work/loadgen.out" 2>&1 ||
    die "crm-loadgen failed: $(tail -n 5 "$work/loadgen.out")"
  python3 - "$work/loadgen.json" <<'PY'
import json, sys
total = json.load(open(sys.argv[1]))["total"]
bad = total["count"] - total["status"]["2xx"]
if bad > total["count"] * 0.001:
    sys.exit(f"crm-loadgen: {bad} of {total['count']} requests without a 2xx")
print(total["achieved_rate"], total["latency_ms"]["p99"])
PY
}

# medians FILE: the median of each column of "rps p99" lines.
medians() {
  python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(" ".join("%.3f" % statistics.median(c) for c in zip(*rows)))' "$1"
}

bench_stack() {
  local run_dir=$work/stack
  "$crmscope" demo --run-dir "$run_dir" --nodes "$nodes" --rate 0 --duration 0s "${db_flags[@]}" \
    --table-interval 1h >"$work/launcher.out" 2>&1 &
  launcher_pid=$!
  local deadline=$((SECONDS + 120))
  until [ -f "$run_dir/stack.json" ]; do
    kill -0 "$launcher_pid" 2>/dev/null || die "crmscope demo exited: $(cat "$work/launcher.out")"
    ((SECONDS < deadline)) || die "the stack did not come up in 120 s"
    sleep 0.2
  done
  db=$run_dir/db/crm.db
  local proxy
  proxy=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nginx"]["url"])' "$run_dir/stack.json")
  log "stack: $nodes crm-nodes behind nginx at $proxy; $connections connections, $duration per run, $runs runs"
  duration=3s run_loadgen "$proxy" >/dev/null  # warm the caches and the page cache
  : >"$work/stack-loadgen" && : >"$work/stack-wrk"
  for ((run = 1; run <= runs; run++)); do
    local a b
    a=$(run_loadgen "$proxy") && echo "$a" >>"$work/stack-loadgen"
    b=$(run_wrk "$proxy" "$connections" | cut -d' ' -f1,2) && echo "$b" >>"$work/stack-wrk"
    log "run $run  crm-loadgen (CRM mix) $(printf '%9.1f req/s p99 %7.2f ms' $a)   wrk (reads) $(printf '%9.1f req/s p99 %7.2f ms' $b)"
  done
  read -r loadgen_rps loadgen_p99 <<<"$(medians "$work/stack-loadgen")"
  read -r wrk_rps wrk_p99 <<<"$(medians "$work/stack-wrk")"
  kill -INT "$launcher_pid"
  wait "$launcher_pid" || die "crmscope demo exited with $? after SIGINT"
  launcher_pid=""
  echo "stack_saturation_rps=$loadgen_rps stack_saturation_p99_ms=$loadgen_p99 (crm-loadgen closed loop, CRM mix, median of $runs)"
  echo "stack_saturation_reads_rps=$wrk_rps stack_saturation_reads_p99_ms=$wrk_p99 (wrk, read mix, median of $runs)"
}

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# start_node NAME METRICS: a crm-node on CPU 0 in its own process group; sets node_url and
# writes its pid to $work/NAME.pid. Not called in $(...): node_pids must reach cleanup. (setsid
# and taskset exec, so the job's pid is the node's.)
start_node() {
  local log_file=$work/$1.log port="" deadline=$((SECONDS + 30))
  rm -f "$log_file"  # the previous run's node logged its port here too
  setsid "${server_cpu[@]}" "$node_bin" serve --db="$db" --web.listen-address=127.0.0.1:0 \
    --node-name="$1" --metrics="$2" >"$log_file" 2>&1 &
  node_pids+=($!)
  echo $! >"$work/$1.pid"
  until [ -n "$port" ]; do
    port=$(sed -n 's/.*msg=Listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log_file" 2>/dev/null |
      head -n 1)
    ((SECONDS < deadline)) || die "crm-node $1 did not start: $(tail -n 5 "$log_file")"
    [ -n "$port" ] || sleep 0.1
  done
  node_url=http://127.0.0.1:$port
}

# stop_nodes: SIGTERM to every node started so far, SIGKILL after 10 s; empties node_pids.
stop_nodes() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  node_pids=()
}

# measure_node WHICH URL RUN: one wrk run against the node; appends "rps p99 cpu_us" to
# $work/WHICH. CPU time per request is the node's own (from /proc), which a busy machine
# disturbs less than throughput.
measure_node() {
  local which=$1 url=$2 run=$3 pid rps p99 requests before after cpu_us
  pid=$(cat "$work/metrics-$which.pid")
  before=$(cpu_ticks "$pid")
  read -r rps p99 requests <<<"$(run_wrk "$url" "$node_connections" "${client_cpu[@]}")"
  after=$(cpu_ticks "$pid")
  cpu_us=$(python3 -c 'import sys; t, hz, n = map(float, sys.argv[1:]); print("%.2f" % (t / hz / n * 1e6))' \
    "$((after - before))" "$(getconf CLK_TCK)" "$requests")
  echo "$rps $p99 $cpu_us" >>"$work/$which"
  log "run $run  metrics=$which  $(printf '%9.1f req/s  p99 %7.3f ms  %6.2f us CPU/request' "$rps" "$p99" "$cpu_us")"
}

# Each run starts a fresh pair of nodes, in the order it measures them (alternating): with one
# pair for all runs, the order the two were started in moved the result (on started first: on
# 9-19% slower in four invocations; off started first: 2%).
bench_overhead() {
  log "overhead: one crm-node with --metrics=on against one with off, $node_connections connections, ${server_cpu[*]:-unpinned}"
  : >"$work/on" && : >"$work/off"
  for ((run = 1; run <= runs; run++)); do
    local order url_on url_off which
    if ((run % 2)); then order="on off"; else order="off on"; fi
    for which in $order; do
      start_node "metrics-$which" "$which"
      printf -v "url_$which" '%s' "$node_url"
    done
    for which in $order; do
      local url=url_$which
      duration=2s run_wrk "${!url}" "$node_connections" "${client_cpu[@]}" >/dev/null
    done
    if ((run == 1)); then
      curl -fsS "$url_on/metrics" | grep -q '^http_requests_total' || die "the metrics=on node counts nothing"
      ! curl -s "$url_off/metrics" | grep -q '^http_requests_total' ||
        die "the metrics=off node still counts requests"
    fi
    for which in $order; do
      local url=url_$which
      measure_node "$which" "${!url}" "$run"
    done
    stop_nodes
  done
  read -r on_rps on_p99 on_cpu <<<"$(medians "$work/on")"
  read -r off_rps off_p99 off_cpu <<<"$(medians "$work/off")"
  echo "node_metrics_on_rps=$on_rps node_metrics_on_p99_ms=$on_p99 node_metrics_on_cpu_us_per_request=$on_cpu (median of $runs)"
  echo "node_metrics_off_rps=$off_rps node_metrics_off_p99_ms=$off_p99 node_metrics_off_cpu_us_per_request=$off_cpu (median of $runs)"
  python3 -c 'import sys; on, off = map(float, sys.argv[1:]); print("instrumentation_cpu_overhead_pct=%.2f (CPU time per request, on over off)" % (100 * (on / off - 1)))' \
    "$on_cpu" "$off_cpu"
  python3 -c 'import sys; on, off = map(float, sys.argv[1:]); print("instrumentation_overhead_pct=%.2f" % (100 * (1 - on / off)))' \
    "$on_rps" "$off_rps"
}

# instructions_per_request METRICS: user-space instructions the node executes per request of
# the read mix, counted by callgrind (the difference between 2500 and 500 sequential requests,
# so startup cancels out). Exact and independent of the machine's load, unlike throughput.
instructions_per_request() {
  local totals=()
  for requests in 500 2500; do
    local log_file=$work/callgrind-$1.log port="" deadline=$((SECONDS + 120)) pid
    : >"$log_file"
    setsid valgrind --tool=callgrind --callgrind-out-file="$work/callgrind-$1-$requests.out" \
      "$node_bin" serve --db="$db" --web.listen-address=127.0.0.1:0 --node-name="cg-$1" \
      --metrics="$1" --threads=4 >"$log_file" 2>&1 &
    pid=$!
    node_pids+=("$pid")
    until [ -n "$port" ]; do
      port=$(sed -n 's/.*msg=Listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log_file" | head -n 1)
      ((SECONDS < deadline)) || die "crm-node under valgrind did not start: $(tail -n 5 "$log_file")"
      [ -n "$port" ] || sleep 0.2
    done
    python3 - "$port" "$requests" "$customers" <<'PY' || die "requests to the node under valgrind failed"
import http.client, random, sys
port, n, customers = map(int, sys.argv[1:4])
rng = random.Random(7)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for i in range(n):
    cid, k = rng.randint(1, customers), i % 10
    path = (f"/api/customers/{cid}" if k < 6 else f"/api/customers/{cid}/orders?limit=10" if k < 8
            else "/api/tickets?status=open&limit=10")
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)
PY
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    totals+=("$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$work/callgrind-$1-$requests.out")")
  done
  echo $(((totals[1] - totals[0]) / 2000))
}

bench_instructions() {
  if ! command -v valgrind >/dev/null; then
    log "instructions: valgrind not installed; skipped"
    return
  fi
  local on off
  on=$(instructions_per_request on)
  off=$(instructions_per_request off)
  echo "node_metrics_on_instructions_per_request=$on node_metrics_off_instructions_per_request=$off (callgrind, user space)"
  python3 -c 'import sys; on, off = map(float, sys.argv[1:]); print("instrumentation_instructions_overhead_pct=%.2f (user-space instructions per request; the kernel'"'"'s share of the node'"'"'s CPU is not in it)" % (100 * (on / off - 1)))' \
    "$on" "$off"
}

((skip_stack)) || bench_stack
if ((!skip_overhead)); then
  if [ -z "${db:-}" ]; then
    db=$work/crm.db
    "$node_bin" seed --db="$db" "${db_flags[@]}" >"$work/seed.log" 2>&1 ||
      die "seeding failed: $(cat "$work/seed.log")"
  fi
  bench_instructions
  bench_overhead
fi
