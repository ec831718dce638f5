#!/usr/bin/env bash
# However the demo ends, no process of the run survives it (checked by the process groups in
# stack.json and by any command line naming the run directory), and the exit code says how it
# ended:
#   Ctrl-C (SIGINT) and SIGTERM       exit 0, crm-loadgen's summary printed
#   --duration                        exit 0 by itself
#   a node killed with SIGKILL        exit 1, naming the node and how it died
#   the launcher itself SIGKILLed     the children follow it (parent-death signal)
# Each run has the full cast: collector, Redis, two nodes, nginx and crm-loadgen.
source "$(dirname "$0")/crm_stack_lib.sh"

full_stack=(--nodes 2 --cache redis --rate 50)

# Every process the launcher started is running while the stack is up.
assert_all_running() {
  local pid
  for pid in $(python3 -c '
import json, sys
print(" ".join(str(p["pid"]) for p in json.load(open(sys.argv[1]))["processes"] if p["name"] != "seed"))' \
    "$run_dir/stack.json"); do
    alive "$pid" || fail "process $pid of the stack is not running"
  done
}

start_stack sigint "${full_stack[@]}" --duration 0s
assert_all_running
sleep 3  # let the load run so there is a summary to print
stop_stack
grep -q "=== summary" "$launcher_out" || fail "crm-loadgen's summary missing after Ctrl-C"
log "SIGINT: exit 0, nothing left"

start_stack sigterm "${full_stack[@]}" --duration 0s
kill -TERM "$launcher_pid"
wait_launcher_exit 30
[ "$launcher_status" -eq 0 ] || fail "exit $launcher_status after SIGTERM"
assert_no_processes
log "SIGTERM: exit 0, nothing left"

start_stack duration "${full_stack[@]}" --duration 4s
wait_launcher_exit 40
[ "$launcher_status" -eq 0 ] || fail "exit $launcher_status after --duration 4s"
assert_no_processes
grep -q "run complete" "$launcher_out" || fail "no 'run complete' after --duration"
log "--duration: exit 0 by itself, nothing left"

start_stack node-dies "${full_stack[@]}" --duration 0s
kill -KILL "$(stack nodes.1.process.pid)"
wait_launcher_exit 30
[ "$launcher_status" -eq 1 ] || fail "exit $launcher_status after node2 was killed, want 1"
grep -q "node2 (pid [0-9]*) was killed by SIGKILL unexpectedly" "$launcher_out" ||
  fail "the launcher did not name node2 and how it died"
assert_no_processes
log "node2 SIGKILLed: exit 1 naming it, nothing left"

start_stack launcher-dies "${full_stack[@]}" --duration 0s
assert_all_running
kill -KILL "$launcher_pid"
wait_launcher_exit 5
assert_no_processes
log "launcher SIGKILLed: its children followed, nothing left"
log "PASS"
