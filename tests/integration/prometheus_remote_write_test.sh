#!/usr/bin/env bash
# A real Prometheus scrapes itself every second and remote-writes everything to crmscope-collector.
# Both must then answer Prometheus's metadata API identically: the series of {job="prometheus"} at
# a past scrape timestamp T (the collector may lag, so it is polled until it has caught up, within
# a deadline), the label names and the metric names. The collector must have accepted samples and
# rejected none, and Prometheus must have failed to send none.
#
# Env: CRMSCOPE_BUILD_DIR (required), PROMETHEUS (default /usr/bin/prometheus).
set -euo pipefail

build_dir=${CRMSCOPE_BUILD_DIR:?CRMSCOPE_BUILD_DIR must point at the build directory}
collector_bin=$build_dir/collector/crmscope-collector
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}
deadline_s=45  # for everything after start-up; the whole test stays under ~60 s

for tool in "$collector_bin" "$prometheus_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done

work_name=crmscope-prw-test
source "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

# get URL OUTFILE [--data-urlencode ARG]...: a GET whose answer must be Prometheus's success JSON;
# on failure OUTFILE.err says why.
get() {
  local url=$1 out=$2; shift 2
  local code
  code=$(curl -sS --max-time 5 -G "$url" "$@" -o "$out" -w '%{http_code}' 2>"$out.err") || return 1
  if [ "$code" != 200 ]; then
    echo "HTTP $code: $(head -c 600 "$out")" >"$out.err"
    return 1
  fi
  python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get("status") != "success")' "$out"
}

collector_port=$(free_port)
prometheus_port=$(free_port)
[ "$collector_port" != "$prometheus_port" ] || prometheus_port=$(free_port)
collector=http://127.0.0.1:$collector_port
prometheus=http://127.0.0.1:$prometheus_port

cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$prometheus_port']
remote_write:
  - url: $collector/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 1s
EOF

mkdir -p "$work/collector-data" "$work/prometheus-data"
start_server collector "$collector_bin" --web.listen-address="127.0.0.1:$collector_port" \
  --storage.path="$work/collector-data"
wait_until 10 "collector /-/ready" http_ok "$collector/-/ready"

start_server prometheus "$prometheus_bin" --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus-data" --web.listen-address="127.0.0.1:$prometheus_port"
wait_until 15 "prometheus /-/ready" http_ok "$prometheus/-/ready"
test_start=$SECONDS

# T: a scrape timestamp of Prometheus's own job that is not the newest, so that scrape is committed.
pick_scrape_timestamp() {
  get "$prometheus/api/v1/query" "$work/up.json" --data-urlencode 'query=up{job="prometheus"}[30s]' ||
    return 1
  T=$(python3 - "$work/up.json" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))["data"]["result"]
values = result[0]["values"] if result else []
if len(values) < 3:
    sys.exit(1)
print(values[-2][0])
EOF
  ) || return 1
}
wait_until 15 "three scrapes of Prometheus by itself" pick_scrape_timestamp
echo "comparing at scrape timestamp T=$T"

# same_answer A.json B.json: identical "data" as sets (series: label sets; others: strings).
same_answer() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
def as_set(path):
    data = json.load(open(path))["data"]
    return {json.dumps(x, sort_keys=True) for x in data}
a, b = as_set(sys.argv[1]), as_set(sys.argv[2])
if a == b and a:
    sys.exit(0)
with open(sys.argv[2] + ".diff", "w") as out:
    out.write(f"{len(a)} from Prometheus, {len(b)} from the collector\n")
    for x in sorted(a - b)[:10]:
        out.write(f"  only in Prometheus: {x}\n")
    for x in sorted(b - a)[:10]:
        out.write(f"  only in the collector: {x}\n")
sys.exit(1)
EOF
}

# converge once|each NAME PATH ARGS...: asks both servers the same GET until their answers agree,
# asking Prometheus once (a past time range: its answer is final) or on each poll (the whole range,
# where series it creates later, e.g. for the handlers this test calls, count too).
converge() {
  local ask_prometheus=$1 name=$2 path=$3; shift 3
  local end=$((test_start + deadline_s)) prometheus_json=$work/$name.prometheus.json
  local collector_json=$work/$name.collector.json
  while true; do
    rm -f "$collector_json.diff" "$collector_json.err"
    if [ "$ask_prometheus" = each ] || [ ! -s "$prometheus_json" ]; then
      get "$prometheus$path" "$prometheus_json" "$@" ||
        fail "Prometheus GET $path $*: $(cat "$prometheus_json.err")"
    fi
    if get "$collector$path" "$collector_json" "$@" &&
      same_answer "$prometheus_json" "$collector_json"; then
      echo "ok: $name: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' \
        "$collector_json") entries, identical"
      return 0
    fi
    ((SECONDS < end)) || fail "$name: the collector's answer to GET $path $* did not match \
Prometheus's within ${deadline_s}s:
$(cat "$collector_json.diff" "$collector_json.err" 2>/dev/null)"
    sleep 0.5
  done
}

match='match[]={job="prometheus"}'
converge once series /api/v1/series --data-urlencode "$match" --data-urlencode "start=$T" \
  --data-urlencode "end=$T"
converge each labels /api/v1/labels --data-urlencode "$match"
converge each metric_names /api/v1/label/__name__/values --data-urlencode "$match"
converge each all_labels /api/v1/labels

# metric_sum URL NAME_REGEX: the sum of the samples of the matching families in a text exposition.
metric_sum() {
  curl -fsS --max-time 5 "$1" | python3 -c '
import re, sys
pattern = re.compile(sys.argv[1])
total = 0.0
for line in sys.stdin:
    if line.startswith("#") or not line.strip():
        continue
    name = re.split(r"[{ ]", line, maxsplit=1)[0]
    if pattern.fullmatch(name):
        after_labels = line.rsplit("}", 1)[1] if "{" in line else line[len(name):]
        total += float(after_labels.split()[0])
print(int(total))' "$2"
}

accepted=$(metric_sum "$collector/metrics" 'crmscope_ingest_samples_total') ||
  fail "GET /metrics on the collector"
rejected=$(metric_sum "$collector/metrics" 'crmscope_ingest_samples_rejected_total')
((accepted > 0)) || fail "collector /metrics: crmscope_ingest_samples_total sums to $accepted, want > 0"
((rejected == 0)) || fail "collector /metrics: crmscope_ingest_samples_rejected_total sums to $rejected, want 0:
$(curl -fsS "$collector/metrics" | grep '^crmscope_ingest_samples_rejected_total')"
echo "ok: collector stored $accepted samples, rejected 0"

failed=$(metric_sum "$prometheus/metrics" 'prometheus_remote_storage_(samples|metadata)_failed_total')
((failed == 0)) || fail "Prometheus failed to send $failed samples/metadata to the collector"
echo "ok: Prometheus reports 0 failed sends"
echo "PASS prometheus_remote_write_test ($((SECONDS)) s)"
