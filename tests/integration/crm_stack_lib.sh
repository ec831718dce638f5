# Shared by tests/integration/crm_stack_*_test.sh (sourced, not a test itself): start a small
# demo stack with `crmscope demo` in a temporary run directory, read its stack.json, stop it,
# and check that no process of the run survives. Everything is on loopback and bounded by
# deadlines; on exit (pass or fail) whatever is left of the run is killed.
set -euo pipefail

build_dir=${CRMSCOPE_BUILD_DIR:?set CRMSCOPE_BUILD_DIR to the build tree}
source_dir=${CRMSCOPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
crmscope=$build_dir/crm_demo/launcher/crmscope
test_name=$(basename "$0" .sh)
for tool in "$crmscope" "$build_dir/crm_demo/node/crm-node" "$build_dir/crm_demo/loadgen/crm-loadgen" \
  "$build_dir/collector/crmscope-collector" nginx redis-server python3 curl; do
  command -v "$tool" >/dev/null || { echo "$test_name: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/$test_name.XXXXXX")
launcher_pid=""
run_dir=""
# Small and fast to seed (about 0.2 s); every test seeds its own, so tests can run in parallel.
small_db=(--customers 2000 --orders 20000 --tickets 2000)

fail() {
  echo "FAIL $test_name: $*" >&2
  if [ -n "$run_dir" ] && [ -d "$run_dir/logs" ]; then
    for f in "$run_dir"/logs/*.log "$work"/launcher*.out; do
      [ -f "$f" ] || continue
      echo "--- $f (last 15 lines)" >&2
      tail -n 15 "$f" >&2
    done
  fi
  exit 1
}
log() { echo "$test_name: $*" >&2; }
# alive PID: running and not a zombie (kill -0 succeeds on a zombie until it is reaped).
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Every process group the run's stack.json names, plus any process whose command line names
# the run directory.
run_processes() {
  local dir=$1 pgids=""
  [ -f "$dir/stack.json" ] && pgids=$(python3 -c '
import json, sys
print(" ".join(str(p["pgid"]) for p in json.load(open(sys.argv[1]))["processes"]))' "$dir/stack.json")
  python3 - "$dir" $pgids <<'PY'
import os, sys
run_dir, pgids = sys.argv[1], {int(p) for p in sys.argv[2:]}
me = os.getpid()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    state, pgrp = fields[0], int(fields[2])
    if int(pid) == me or state in "ZX":
        continue
    if pgrp in pgids or run_dir in cmdline:
        print(pid, pgrp, cmdline.strip())
PY
}

cleanup() {
  local status=$?
  if [ -n "$launcher_pid" ] && alive "$launcher_pid"; then
    kill -KILL "$launcher_pid" 2>/dev/null || true
  fi
  if [ -n "$run_dir" ]; then
    run_processes "$run_dir" | while read -r pid _; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "$test_name: kept $work" >&2; fi
}
trap cleanup EXIT

# start_stack NAME [crmscope demo flags...]: runs the launcher in the background with run
# directory $work/NAME and waits for its stack.json. Sets launcher_pid, run_dir, launcher_out.
start_stack() {
  local name=$1; shift
  run_dir=$work/$name
  launcher_out=$work/launcher-$name.out
  "$crmscope" demo --run-dir "$run_dir" "${small_db[@]}" --table-interval 2s "$@" \
    >"$launcher_out" 2>&1 &
  launcher_pid=$!
  local deadline=$((SECONDS + 60))
  until [ -f "$run_dir/stack.json" ]; do
    alive "$launcher_pid" || fail "crmscope demo exited while starting: $(cat "$launcher_out")"
    ((SECONDS < deadline)) || fail "no $run_dir/stack.json after 60 s"
    sleep 0.1
  done
}

# stack VALUE_PATH: a value of stack.json, e.g. stack nginx.url, stack nodes.0.url
stack() {
  python3 - "$run_dir/stack.json" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value)
PY
}

# wait_launcher_exit SECONDS: waits for the launcher to exit; sets launcher_status.
wait_launcher_exit() {
  local deadline=$((SECONDS + $1))
  while alive "$launcher_pid"; do
    ((SECONDS < deadline)) || fail "crmscope demo still running $1 s later"
    sleep 0.1
  done
  launcher_status=0
  wait "$launcher_pid" || launcher_status=$?
}

# stop_stack: Ctrl-C to the launcher; it must exit 0 and leave nothing behind.
stop_stack() {
  kill -INT "$launcher_pid"
  wait_launcher_exit 30
  [ "$launcher_status" -eq 0 ] || fail "crmscope demo exited $launcher_status after SIGINT"
  assert_no_processes
}

# assert_no_processes: nothing of the run may survive the launcher (polls briefly: SIGKILLed
# processes vanish asynchronously).
assert_no_processes() {
  local deadline=$((SECONDS + 10)) left
  while left=$(run_processes "$run_dir") && [ -n "$left" ]; do
    ((SECONDS < deadline)) || fail "processes of the run survived the launcher:
$left"
    sleep 0.2
  done
}

# admin_token: the bearer token of the nodes' /admin/faults for this run.
admin_token() { tr -d '\n' <"$(stack admin_token_file)"; }
