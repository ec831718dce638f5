#!/usr/bin/env bash
# Log-parsing benchmark: the crmscope agent's one-shot mode (crmscope-agent parse-nginx-log)
# against mtail 3.0 (Debian's mtail, --one_shot), side by side on the same generated access log
# in the demo's format (crm_demo/launcher/access_log.h): three upstreams, about 1% retries, some
# 5xx, ids and UUIDs in paths (bench/agent/logparse/generate_access_log.py, deterministic).
#
# mtail runs bench/agent/logparse/crmscope_proxy.mtail, which derives the same request and
# attempt counters and the request-duration histogram the agent does; both outputs are compared
# (compare_expositions.py) and the result printed as a "check:" line. Each tool parses the whole
# file from a warm page cache; runs alternate the two tools; lines/s are medians over --runs of
# wall time. CPU seconds and the load average are printed too: on a busy machine wall time also
# counts the wait for a core, and mtail's several threads get more of the scheduler's share than
# the agent's one.
#
# usage: bench/agent/logparse.sh [--lines N] [--runs N] [--build-dir DIR] [--cache-dir DIR]
# The last line printed is logparse_ratio_vs_mtail=<agent lines/s / mtail lines/s>.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
lines=1000000 runs=3
build_dir=${CRMSCOPE_BUILD_DIR:-$source_dir/build}
cache_root=${TMPDIR:-/tmp}/crmscope-logparse-cache
while (($#)); do
  case $1 in
    --lines) lines=$2 ;;
    --runs) runs=$2 ;;
    --build-dir) build_dir=$2 ;;
    --cache-dir) cache_root=$2 ;;
    *) sed -n '/^# usage/,/^# The last/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift 2
done

agent_bin=${CRMSCOPE_AGENT:-$build_dir/agent/core/crmscope-agent}
mtail_bin=${MTAIL:-mtail}
bench_dir=$source_dir/bench/agent/logparse
for tool in "$agent_bin" "$mtail_bin" python3; do
  command -v "$tool" >/dev/null || { echo "logparse.sh: $tool not found (build first? apt-get install mtail?)" >&2; exit 1; }
done

die() { echo "logparse.sh: $*" >&2; exit 1; }
log() { echo "$*" >&2; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/crmscope-logparse.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The demo's directive, as nginx.conf holds it (AccessLogFormatDirective()).
log_format="log_format crmscope '\$msec\t\$request_method\t\$uri\t\$status\t\$request_time\t\$upstream_addr\t\$upstream_status\t\$upstream_connect_time\t\$upstream_header_time\t\$upstream_response_time\t\$body_bytes_sent\t\$upstream_http_server_timing';"

# --- the log, generated once per size and generator version
generator=$bench_dir/generate_access_log.py
cache=$cache_root/$lines-$(sha1sum "$generator" | cut -c1-12)
access_log=$cache/access.log
if [ ! -s "$access_log" ]; then
  log "generating $lines lines into $access_log"
  mkdir -p "$cache"
  python3 "$generator" "$lines" "$access_log.tmp" && mv "$access_log.tmp" "$access_log"
fi
[ "$(wc -l <"$access_log")" -eq "$lines" ] || die "$access_log does not have $lines lines"
log "$lines lines, $(du -m "$access_log" | cut -f1) MiB; warming the page cache"
cat "$access_log" >/dev/null

# timed OUT COMMAND...: runs COMMAND with stdout to OUT; prints its wall and CPU (user + sys)
# seconds. The ratio is on wall time; CPU time is printed beside it because on a loaded machine
# wall time also measures the wait for a core.
timed() {
  local out=$1 TIMEFORMAT='%R %U %S'
  shift
  { time "$@" >"$out" 2>"$out.stderr"; } 2>"$out.time" || die "$1 failed: $(tail -n 3 "$out.stderr")"
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$out.time"
}

run_agent() {
  timed "$work/agent.prom" "$agent_bin" parse-nginx-log --log-format "$log_format" "$access_log"
}
run_mtail() {
  timed "$work/mtail.prom" "$mtail_bin" --one_shot --one_shot_format prometheus \
    --progs "$bench_dir" --logs "$access_log" --logtostderr
}

agent_times=() mtail_times=() agent_cpu=() mtail_cpu=()
# measure TOOL: one run of the tool, its times appended to TOOL_times and TOOL_cpu.
measure() {
  local result wall cpu
  result=$("run_$1") || exit 1
  read -r wall cpu <<<"$result"
  eval "$1_times+=($wall) $1_cpu+=($cpu)"
}
for ((run = 1; run <= runs; run++)); do
  if ((run % 2)); then
    measure agent
    measure mtail
  else
    measure mtail
    measure agent
  fi
  log "run $run: agent ${agent_times[-1]} s (CPU ${agent_cpu[-1]} s), mtail ${mtail_times[-1]} s (CPU ${mtail_cpu[-1]} s)"
done
grep -q "$lines lines parsed, 0 rejected" "$work/agent.prom.stderr" ||
  die "the agent rejected lines: $(tail -n 3 "$work/agent.prom.stderr")"

agent_seconds=$(printf '%s\n' "${agent_times[@]}" | median)
mtail_seconds=$(printf '%s\n' "${mtail_times[@]}" | median)
agent_rate=$(awk -v n="$lines" -v s="$agent_seconds" 'BEGIN {printf "%.0f", n / s}')
mtail_rate=$(awk -v n="$lines" -v s="$mtail_seconds" 'BEGIN {printf "%.0f", n / s}')
agent_cpu_seconds=$(printf '%s\n' "${agent_cpu[@]}" | median)
mtail_cpu_seconds=$(printf '%s\n' "${mtail_cpu[@]}" | median)
echo "agent_lines_per_second=$agent_rate (median of $runs: ${agent_seconds} s wall, ${agent_cpu_seconds} s CPU)"
echo "mtail_lines_per_second=$mtail_rate (median of $runs: ${mtail_seconds} s wall, ${mtail_cpu_seconds} s CPU; mtail $("$mtail_bin" --version 2>&1 | head -n 1 | awk '{print $3}'))"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
python3 "$bench_dir/compare_expositions.py" "$work/agent.prom" "$work/mtail.prom" "$lines" || check_failed=1
echo "logparse_ratio_vs_mtail=$(awk -v a="$agent_rate" -v b="$mtail_rate" 'BEGIN {printf "%.2f", a / b}')"
exit "${check_failed:-0}"
