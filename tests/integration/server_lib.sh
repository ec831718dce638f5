# Shared by the integration tests that run crmscope-collector beside a real Prometheus (sourced,
# not a test itself): a work directory, servers in their own process groups stopped newest first
# on exit (Prometheus flushes its remote-write queue on shutdown, so what it sends to must still be
# up), free loopback ports, polling with a deadline, and a failure report with each server's log.
#
# The sourcing test sets `work_name` (the temporary directory's prefix) first.

work=$(mktemp -d "/tmp/${work_name:?set work_name before sourcing server_lib.sh}.XXXXXX")
pids=()

stop_all() {
  local i j pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((j = 0; j < 100; j++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$work"/*.log; do
    [ -f "$log" ] || continue
    echo "--- last lines of $(basename "$log")" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

# A port nobody listens on now; a bind race with another process is possible but harmless
# (the server would fail to start and the test would say so).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME COMMAND...: runs a server in its own process group (setsid), logging to
# $work/NAME.log, so cleanup kills it with all its children.
start_server() {
  local name=$1; shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 200 ms until it succeeds.
wait_until() {
  local seconds=$1 what=$2; shift 2
  local end=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.2
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
