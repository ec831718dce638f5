#!/usr/bin/env bash
# crmscope-collector forwards what it ingests to a real Prometheus 2.42 (remote-write receiver on):
# samples written to the collector while Prometheus is still down, and more once it is up, must
# all be readable through Prometheus's /api/v1/query with their exact timestamps and values and
# the collector's external label; the collector's forwarder must report every sample sent and
# none failed or dropped.
#
# Env: CRMSCOPE_BUILD_DIR (required), PROMETHEUS (default /usr/bin/prometheus).
set -euo pipefail

build_dir=${CRMSCOPE_BUILD_DIR:?CRMSCOPE_BUILD_DIR must point at the build directory}
collector_bin=$build_dir/collector/crmscope-collector
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}
deadline_s=30

for tool in "$collector_bin" "$prometheus_bin" curl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done

work_name=crmscope-forward-test
source "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

# write_samples URL FIRST_T COUNT: remote-writes COUNT samples per series of three series, at
# FIRST_T, FIRST_T+1000, ... ms, with values chosen to survive only an exact round trip. The body
# is encoded here (protobuf by hand, snappy as literal blocks, which every decoder accepts), so the
# test does not depend on the codec under test.
write_samples() {
  python3 - "$1" "$2" "$3" "$work/body.bin" <<'EOF'
import struct, subprocess, sys
url, first_t, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def sample(t, v):
    return field(2, varint(1 << 3 | 1) + struct.pack('<d', v) + varint(2 << 3) + varint(t))
def label(name, value):
    return field(1, field(1, name.encode()) + field(2, value.encode()))
def value(series, i):
    return [i * 0.1, -1e-9 * (i + 1), 12345678901.25 + i][series]
body = b''
for s in range(3):
    ts = label('__name__', 'crm_forwarded') + label('series', str(s))
    for i in range(count):
        k = (first_t - 1700000000000) // 1000 + i  # the sample's index across both writes
        ts += sample(first_t + i * 1000, value(s, k))
    body += field(1, ts)
snappy = varint(len(body))
for start in range(0, len(body), 65536):
    chunk = body[start:start + 65536]
    n = len(chunk) - 1
    snappy += (bytes([n << 2]) if n < 60 else bytes([61 << 2]) + n.to_bytes(2, 'little')) + chunk
open(path, 'wb').write(snappy)
code = subprocess.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5',
                       '-H', 'Content-Type: application/x-protobuf', '-H', 'Content-Encoding: snappy',
                       '-H', 'X-Prometheus-Remote-Write-Version: 0.1.0',
                       '--data-binary', '@' + path, url], capture_output=True, text=True).stdout
sys.exit(0 if code == '204' else 1)
EOF
}

collector_port=$(free_port)
prometheus_port=$(free_port)
[ "$collector_port" != "$prometheus_port" ] || prometheus_port=$(free_port)
collector=http://127.0.0.1:$collector_port
prometheus=http://127.0.0.1:$prometheus_port

cat >"$work/collector.yml" <<EOF
global:
  external_labels: {collector: it}
remote_write:
  - url: $prometheus/api/v1/write
    name: prometheus
    queue_config:
      max_shards: 2
      batch_send_deadline: 200ms
      min_backoff: 50ms
      max_backoff: 500ms
EOF
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1m
EOF

# Timestamps in the recent past, aligned so the python side can index them: Prometheus takes
# samples into its head only near its newest time.
now_s=$(date +%s)
base_t=$(( (now_s - 600) * 1000 ))
n1=20 n2=25

mkdir -p "$work/collector-data" "$work/prometheus-data"
start_server collector "$collector_bin" --web.listen-address="127.0.0.1:$collector_port" \
  --storage.path="$work/collector-data" --config.file="$work/collector.yml"
wait_until 10 "collector /-/ready" http_ok "$collector/-/ready"

# Prometheus is not up yet: these wait in the forward queue.
write_samples "$collector/api/v1/write" "$base_t" "$n1" || fail "writing the first samples to the collector"
echo "ok: wrote $((3 * n1)) samples while Prometheus was down"

start_server prometheus "$prometheus_bin" --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/prometheus-data" --web.listen-address="127.0.0.1:$prometheus_port" \
  --web.enable-remote-write-receiver
wait_until 15 "prometheus /-/ready" http_ok "$prometheus/-/ready"

write_samples "$collector/api/v1/write" "$((base_t + n1 * 1000))" "$n2" ||
  fail "writing the second samples to the collector"
echo "ok: wrote $((3 * n2)) more with Prometheus up"

# all_arrived: Prometheus returns exactly the samples written, for every series, through a range
# selector evaluated by /api/v1/query at the last timestamp.
total=$((n1 + n2))
all_arrived() {
  local end_s=$(( (base_t + (total - 1) * 1000) / 1000 ))
  curl -fsS --max-time 5 -G "$prometheus/api/v1/query" \
    --data-urlencode "query=crm_forwarded{collector=\"it\"}[$((total + 5))s]" \
    --data-urlencode "time=$end_s" -o "$work/query.json" 2>/dev/null || return 1
  python3 - "$work/query.json" "$base_t" "$total" >"$work/compare.txt" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
base_t, total = int(sys.argv[2]), int(sys.argv[3])
def value(series, k):
    return [k * 0.1, -1e-9 * (k + 1), 12345678901.25 + k][series]
result = data["data"]["result"]
if len(result) != 3:
    print(f"{len(result)} series, want 3"); sys.exit(1)
for r in result:
    s = int(r["metric"]["series"])
    got = [(round(float(t) * 1000), float(v)) for t, v in r["values"]]
    k0 = (base_t - 1700000000000) // 1000
    want = [(base_t + i * 1000, value(s, k0 + i)) for i in range(total)]
    if got != want:
        print(f"series {s}: {len(got)} samples, want {len(want)}; first difference at "
              f"{next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))}")
        sys.exit(1)
print("identical")
EOF
}
end=$((SECONDS + deadline_s))
until all_arrived; do
  ((SECONDS < end)) || fail "Prometheus did not return the forwarded samples within ${deadline_s}s: $(cat "$work/compare.txt")"
  sleep 0.2
done
echo "ok: Prometheus returns all $((3 * total)) samples, exact values and timestamps, label collector=\"it\""

metric() {
  curl -fsS --max-time 5 "$collector/metrics" |
    awk -v name="$1" 'index($1, name "{") == 1 || $1 == name { sum += $NF } END { printf "%d\n", sum }'
}
sent=$(metric crmscope_collector_forward_samples_sent_total)
failed=$(metric crmscope_collector_forward_samples_failed_total)
dropped=$(metric crmscope_collector_forward_samples_dropped_total)
((sent == 3 * total)) || fail "crmscope_collector_forward_samples_sent_total is $sent, want $((3 * total))"
((failed == 0 && dropped == 0)) || fail "forwarding failed $failed and dropped $dropped samples, want 0"
echo "ok: the collector reports $sent samples forwarded, 0 failed, 0 dropped"
echo "PASS collector_forward_prometheus_test ($SECONDS s)"
