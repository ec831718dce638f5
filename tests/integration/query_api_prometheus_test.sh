#!/usr/bin/env bash
# The query API byte for byte against Prometheus 2.42: the same samples are remote-written to a
# Prometheus (remote-write receiver on, empty TSDB) and to crmscope-collector, both on loopback;
# then a set of instant and range queries, parameter errors, engine errors and /federate are
# asked of both, and every answer (status code and body) must be identical.
#
# The data ends one to two minutes before the test starts and has no samples between 10 and 2
# minutes before its end, so /federate's moving lookback window (now - 5m) never crosses a sample
# while the two are asked.
#
# Env: CRMSCOPE_BUILD_DIR (required), PROMETHEUS (default /usr/bin/prometheus).
set -euo pipefail

build_dir=${CRMSCOPE_BUILD_DIR:?CRMSCOPE_BUILD_DIR must point at the build directory}
collector_bin=$build_dir/collector/crmscope-collector
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}

for tool in "$collector_bin" "$prometheus_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done

work_name=crmscope-query-api-test
source "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

collector_port=$(free_port)
prometheus_port=$(free_port)
[ "$collector_port" != "$prometheus_port" ] || prometheus_port=$(free_port)
collector=http://127.0.0.1:$collector_port
prometheus=http://127.0.0.1:$prometheus_port

mkdir -p "$work/collector-data" "$work/prometheus-data"
printf 'global:\n  scrape_interval: 1h\n' >"$work/prometheus.yml"
start_server collector "$collector_bin" --web.listen-address="127.0.0.1:$collector_port" \
  --storage.path="$work/collector-data"
start_server prometheus "$prometheus_bin" --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus-data" --web.listen-address="127.0.0.1:$prometheus_port" \
  --web.enable-remote-write-receiver
wait_until 15 "collector /-/ready" http_ok "$collector/-/ready"
wait_until 30 "prometheus /-/ready" http_ok "$prometheus/-/ready"

# Remote write without Python packages: protobuf encoded by hand, snappy as literal blocks
# (valid snappy that any decoder takes). "stale" as a value is Prometheus's staleness marker.
cat >"$work/remote_write.py" <<'EOF'
import json, struct, sys, urllib.request

def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)

def field(num, wire_type, payload):
    if wire_type == 2:
        return varint(num << 3 | 2) + varint(len(payload)) + payload
    if wire_type == 1:
        return varint(num << 3 | 1) + payload
    return varint(num << 3) + varint(payload & (1 << 64) - 1)

def snappy_literals(data):
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 60):
        chunk = data[i:i + 60]
        out.append((len(chunk) - 1) << 2)
        out += chunk
    return bytes(out)

def encode(series):
    body = b""
    for s in series:
        ts = b""
        for name, value in sorted(s["labels"].items()):
            ts += field(1, 2, field(1, 2, name.encode()) + field(2, 2, value.encode()))
        for t, v in s["samples"]:
            bits = struct.pack("<Q", 0x7FF0000000000002) if v == "stale" else struct.pack("<d", v)
            ts += field(2, 2, field(1, 1, bits) + field(2, 0, t))
        body += field(1, 2, ts)
    return body

series = json.load(open(sys.argv[2]))
request = urllib.request.Request(sys.argv[1], data=snappy_literals(encode(series)), method="POST",
                                 headers={"Content-Encoding": "snappy",
                                          "Content-Type": "application/x-protobuf",
                                          "X-Prometheus-Remote-Write-Version": "0.1.0"})
status = urllib.request.urlopen(request, timeout=10).status
sys.exit(0 if status in (200, 204) else 1)
EOF

# Deterministic data relative to a whole minute: counters (one with a reset), a gauge with
# labels that need escaping, values at the edges of the number formats, a series that goes
# stale and returns, and one at a millisecond timestamp.
end_s=$(( $(date +%s) / 60 * 60 - 60 ))
python3 - "$end_s" >"$work/data.json" <<'EOF'
import json, sys
end = int(sys.argv[1]) * 1000
start = end - 40 * 60 * 1000
step = 15000
series = []
def add(labels, value, keep=lambda t: True, st=step):
    samples = [[t, value(i)] for i, t in enumerate(range(start, end + 1, st)) if keep(t)]
    series.append({"labels": labels, "samples": samples})
recent_or_old = lambda t: t <= end - 10 * 60000 or t >= end - 2 * 60000
for inst, k in (("a", 10), ("b", 3)):
    for code, m in (("200", 1), ("500", 0.1)):
        reset = inst == "a" and code == "200"
        add({"__name__": "http_requests_total", "job": "api", "instance": inst, "code": code},
            lambda i, k=k, m=m, reset=reset: (i % 70 if reset else i) * k * m + 0.25,
            keep=recent_or_old)
add({"__name__": "temperature", "job": "sensor", "room": "a<b>&c\"d\\e\nf", "unit": "°C"},
    lambda i: 20 + i * 0.1, keep=recent_or_old)
add({"__name__": "odd_values", "kind": "tiny"}, lambda i: 1e-7 * (i + 1), keep=recent_or_old)
add({"__name__": "odd_values", "kind": "huge"}, lambda i: 1e21 * (i + 1), keep=recent_or_old)
add({"__name__": "odd_values", "kind": "inf"}, lambda i: float("inf") if i % 2 else float("-inf"),
    keep=recent_or_old)
add({"__name__": "odd_values", "kind": "neg"}, lambda i: -1.5 / (i + 1), keep=recent_or_old)
flappy = [[start + i * step, i] for i in range(40)] + [[start + 40 * step, "stale"]]
flappy += [[start + i * step, i] for i in range(80, 120)]
series.append({"labels": {"__name__": "flappy", "job": "api"}, "samples": flappy})
series.append({"labels": {"__name__": "ms_precision", "job": "x"},
               "samples": [[start + 123, 1.5], [start + 60123, 2.5]]})
json.dump(series, sys.stdout)
EOF
python3 "$work/remote_write.py" "$collector/api/v1/write" "$work/data.json" ||
  fail "remote write to the collector"
python3 "$work/remote_write.py" "$prometheus/api/v1/write" "$work/data.json" ||
  fail "remote write to Prometheus"

# ask NAME METHOD PATH [curl args...]: the same request to both; status and body must match.
compared=0
mismatches=0
ask() {
  local name=$1 method=$2 path=$3; shift 3
  local side base
  for side in collector prometheus; do
    base=$collector
    [ "$side" = prometheus ] && base=$prometheus
    local args=(-sS --max-time 20 -o "$work/$side.body" -w '%{http_code}')
    if [ "$method" = GET ]; then args+=(-G); fi
    curl "${args[@]}" "$base$path" "$@" >"$work/$side.status" 2>"$work/$side.err" ||
      fail "$name: curl to $side: $(cat "$work/$side.err")"
  done
  compared=$((compared + 1))
  if ! cmp -s "$work/collector.status" "$work/prometheus.status" ||
     ! cmp -s "$work/collector.body" "$work/prometheus.body"; then
    mismatches=$((mismatches + 1))
    echo "MISMATCH $name"
    echo "  collector  $(cat "$work/collector.status"): $(head -c 700 "$work/collector.body")"
    echo "  prometheus $(cat "$work/prometheus.status"): $(head -c 700 "$work/prometheus.body")"
  fi
}

t=$((end_s - 60))            # in the data's last two minutes
t_old=$((end_s - 20 * 60))   # in its older part, where flappy has gone stale and come back
instant=(
  '1+1' 'time()' '"a<b"' '-1/0' '1e-7' 'http_requests_total' 'temperature' 'odd_values'
  'flappy' 'ms_precision' 'nothing_here' 'http_requests_total offset 10m'
  'rate(http_requests_total[5m])' 'sum by (job) (rate(http_requests_total[5m]))'
  'topk(2, http_requests_total)' 'http_requests_total[1m]' 'count(odd_values)'
  'label_replace(temperature, "x", "$1", "room", "(a).*")'
)
for q in "${instant[@]}"; do
  ask "instant $q" GET /api/v1/query --data-urlencode "query=$q" --data-urlencode "time=$t.5"
  ask "instant $q, earlier" GET /api/v1/query --data-urlencode "query=$q" \
    --data-urlencode "time=$t_old"
done
ask "instant at an RFC 3339 time" GET /api/v1/query --data-urlencode 'query=http_requests_total' \
  --data-urlencode "time=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S.250Z)"
ask "instant by POST" POST /api/v1/query --data-urlencode 'query=sum(http_requests_total)' \
  --data-urlencode "time=$t"
ask "POST body wins over URL" POST "/api/v1/query?query=2*4&time=10" \
  --data-urlencode 'query=2*3' --data-urlencode time=11

range_start=$((end_s - 40 * 60))
ranges=(
  'http_requests_total' 'rate(http_requests_total[1m])' 'flappy' 'temperature'
  'sum(rate(http_requests_total[5m]))' 'odd_values' '1' 'time()' 'ms_precision'
)
for q in "${ranges[@]}"; do
  ask "range $q" GET /api/v1/query_range --data-urlencode "query=$q" \
    --data-urlencode "start=$range_start" --data-urlencode "end=$end_s" --data-urlencode step=60
done
ask "millisecond sample times" GET /api/v1/query --data-urlencode 'query=ms_precision[2m]' \
  --data-urlencode "time=$((range_start + 90))"
ask "range with fractional start and step" GET /api/v1/query_range \
  --data-urlencode 'query=http_requests_total' --data-urlencode "start=$range_start.5" \
  --data-urlencode "end=$end_s" --data-urlencode step=1m30s

# Refusals, worded and coded as Prometheus's.
ask "query parse error" GET /api/v1/query --data-urlencode 'query=1+'
ask "query missing" GET /api/v1/query
ask "query empty selector" GET /api/v1/query --data-urlencode 'query={}'
ask "query bad time" GET /api/v1/query --data-urlencode 'query=1' --data-urlencode time=x
ask "query bad timeout" GET /api/v1/query --data-urlencode 'query=1' --data-urlencode timeout=x
ask "many-to-many" GET /api/v1/query --data-urlencode "time=$t" \
  --data-urlencode 'query=http_requests_total + on(job) http_requests_total'
ask "label_replace bad regex" GET /api/v1/query --data-urlencode "time=$t" \
  --data-urlencode 'query=label_replace(temperature, "x", "y", "z", "(")'
ask "range no start" GET /api/v1/query_range --data-urlencode 'query=1'
ask "range end before start" GET /api/v1/query_range --data-urlencode 'query=1' \
  --data-urlencode start=2 --data-urlencode end=1
ask "range zero step" GET /api/v1/query_range --data-urlencode 'query=1' \
  --data-urlencode start=1 --data-urlencode end=2 --data-urlencode step=0
ask "range 11001 points" GET /api/v1/query_range --data-urlencode 'query=1' \
  --data-urlencode start=0 --data-urlencode end=11001 --data-urlencode step=1
ask "range of a range vector" GET /api/v1/query_range --data-urlencode 'query=flappy[5m]' \
  --data-urlencode start=1 --data-urlencode end=2 --data-urlencode step=1
ask "range parse error" GET /api/v1/query_range --data-urlencode 'query=sum(' \
  --data-urlencode start=1 --data-urlencode end=2 --data-urlencode step=1
ask "method" PUT /api/v1/query -X PUT

ask "exemplars" GET /api/v1/query_exemplars --data-urlencode 'query=http_requests_total'
ask "exemplars without selector" GET /api/v1/query_exemplars --data-urlencode 'query=1+1'
ask "exemplars bad range" GET /api/v1/query_exemplars --data-urlencode 'query=up' \
  --data-urlencode start=10 --data-urlencode end=5

ask "federate" GET /federate --data-urlencode 'match[]={job=~".+"}' \
  --data-urlencode 'match[]=odd_values'
ask "federate nothing" GET /federate
ask "federate parse error" GET /federate --data-urlencode 'match[]=up{'

echo "compared=$compared mismatches=$mismatches"
[ "$mismatches" -eq 0 ] || fail "$mismatches of $compared answers differ from Prometheus's"
echo "PASS"
