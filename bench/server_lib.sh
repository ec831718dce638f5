# Shared by the benchmarks that run crmscope-collector and Prometheus side by side (sourced):
# a work directory (kept with --keep), servers in their own process groups killed on exit, free
# loopback ports, and a failure report with each server's log.
#
# The sourcing script sets `bench_name` (its name in messages) and `keep` (1: keep $work) first.

work=$(mktemp -d "${TMPDIR:-/tmp}/crmscope-${bench_name:?set bench_name before sourcing server_lib.sh}.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((keep)); then echo "$bench_name: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

log() { echo "$*" >&2; }
die() {
  log "$bench_name: $*"
  local f
  for f in "$work"/*.log; do [ -f "$f" ] && { log "--- last lines of $f"; tail -n 5 "$f" >&2; }; done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME PORT COMMAND...: in its own process group, logging to $work/NAME.log; waits
# up to 120 s for /-/ready (Prometheus replays a large TSDB first) and sets server_pid.
start_server() {
  local name=$1 port=$2; shift 2
  setsid "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local end=$((SECONDS + 120))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/-/ready" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "$name exited while starting"
    ((SECONDS < end)) || die "$name not ready after 120 s"
    sleep 0.2
  done
  server_pid=$pid
}
