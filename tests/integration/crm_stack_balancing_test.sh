#!/usr/bin/env bash
# nginx's share of requests per node under each --lb method, from the X-Crm-Node header of
# every response and, independently, from the access log's $upstream_addr:
#
#   round_robin      1/3 each                  600 sequential requests, each share within ±5 points
#   weighted:3,2,1   1/2, 1/3, 1/6             600 sequential requests, ±5 points
#   random           1/3 each                  1500 requests, ±5 points (3.7 standard deviations)
#   least_conn       1/3 each when idle; under 8 concurrent clients with node1 slowed by 200 ms,
#                    node1 gets under 15% (round robin would give it a third)
#   ip_hash          every request from 127.0.0.1 to the same node
#
# Deterministic methods are exact in practice; the tolerance only absorbs nginx's start.
source "$(dirname "$0")/crm_stack_lib.sh"

# count_shares COUNT [CONCURRENCY]: GETs through nginx over keep-alive connections; prints
# "node1 n1 node2 n2 node3 n3" counted from the X-Crm-Node header.
count_shares() {
  python3 - "$(stack nginx.url)" "$1" "${2:-1}" <<'PY'
import collections, http.client, sys, threading, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
total, clients = int(sys.argv[2]), int(sys.argv[3])
counts, lock, errors = collections.Counter(), threading.Lock(), []
def client(index):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    for i in range(index, total, clients):
        conn.request("GET", f"/api/customers/{i % 2000 + 1}")
        response = conn.getresponse()
        response.read()
        with lock:
            if response.status != 200:
                errors.append(response.status)
            counts[response.headers.get("X-Crm-Node")] += 1
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit(f"non-200 responses: {errors[:10]}")
print(" ".join(f"{n} {counts[n]}" for n in ("node1", "node2", "node3")))
PY
}

# log_shares: requests per node in the access log, by upstream address (API requests only).
log_shares() {
  python3 - "$(stack nginx.access_log)" "$(stack nodes.0.port)" "$(stack nodes.1.port)" \
    "$(stack nodes.2.port)" <<'PY'
import collections, sys
ports = {f"127.0.0.1:{p}": f"node{i + 1}" for i, p in enumerate(sys.argv[2:5])}
counts = collections.Counter()
for line in open(sys.argv[1]):
    fields = line.rstrip("\n").split("\t")
    if fields[2].startswith("/api/"):
        counts[ports.get(fields[5], fields[5])] += 1
print(" ".join(f"{n} {counts[n]}" for n in ("node1", "node2", "node3")))
PY
}

# check_shares METHOD "n1 n2 n3 counts" "e1 e2 e3 expected shares" TOLERANCE_POINTS
check_shares() {
  python3 - "$@" <<'PY' || fail "$1: shares off"
import sys
method, counts, expected, tolerance = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), float(sys.argv[4])
counts = [int(c) for c in counts[1::2]]
total = sum(counts)
shares = [100.0 * c / total for c in counts]
wanted = [100.0 * float(e) for e in expected]
print(f"{method}: {total} requests, shares " + ", ".join(f"{s:.1f}%" for s in shares) +
      " want " + ", ".join(f"{w:.1f}%" for w in wanted) + f" ±{tolerance:g}", file=sys.stderr)
if any(abs(s - w) > tolerance for s, w in zip(shares, wanted)):
    sys.exit(1)
PY
}

run_method() {
  local method=$1 requests=$2 expected=$3 headers logged
  start_stack "lb-${method//[:,]/_}" --nodes 3 --rate 0 --duration 0s --lb "$method"
  headers=$(count_shares "$requests") || fail "$method: requests through nginx failed"
  check_shares "$method (X-Crm-Node)" "$headers" "$expected" 5
  logged=$(log_shares)
  [ "$logged" = "$headers" ] || fail "$method: access log says '$logged', headers say '$headers'"
}

run_method round_robin 600 "0.3333 0.3333 0.3333"
stop_stack
run_method weighted:3,2,1 600 "0.5 0.3333 0.1667"
stop_stack
run_method random 1500 "0.3333 0.3333 0.3333"
stop_stack

run_method least_conn 600 "0.3333 0.3333 0.3333"
code=$(curl -s -o "$work/fault.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $(admin_token)" \
  -d '{"type":"latency","params":{"ms":200},"duration_s":60}' "$(stack nodes.0.url)/admin/faults")
[ "$code" = 201 ] || fail "latency fault on node1: $code $(cat "$work/fault.out")"
slow=$(count_shares 240 8) || fail "least_conn: concurrent requests failed"
python3 - "$slow" <<'PY' || fail "least_conn: the slow node1 got too many requests: $slow"
import sys
counts = [int(c) for c in sys.argv[1].split()[1::2]]
share = 100.0 * counts[0] / sum(counts)
print(f"least_conn with node1 slowed by 200 ms: node1 got {share:.1f}% ({sys.argv[1]}), want < 15%",
      file=sys.stderr)
sys.exit(0 if share < 15 else 1)
PY
stop_stack

start_stack lb-ip_hash --nodes 3 --rate 0 --duration 0s --lb ip_hash
headers=$(count_shares 300) || fail "ip_hash: requests through nginx failed"
python3 - "$headers" <<'PY' || fail "ip_hash: one client spread over several nodes: $headers"
import sys
counts = sorted(int(c) for c in sys.argv[1].split()[1::2])
print(f"ip_hash: {sys.argv[1]} (all from 127.0.0.1)", file=sys.stderr)
sys.exit(0 if counts == [0, 0, 300] else 1)
PY
stop_stack
log "PASS"
