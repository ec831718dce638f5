#!/usr/bin/env bash
# Each fault the launcher schedules (--fault) shows its symptom in the node's /metrics, measured
# as counter deltas over a window inside the fault against a baseline window before any fault,
# under 100 req/s of crm-loadgen through nginx over two nodes:
#
#   cache_off      node1  hit ratio exactly 0 during (misses > 0); above 0.2 before
#   errors 0.3     node2  5xx share of its API requests within 0.30 ± 0.08 (3.5 standard
#                         deviations at the ~400 requests of the window); exactly 0 before
#   drop_index     node1  rows scanned per customer_orders query at least 100x the baseline
#   latency 100ms  node2  median API latency (histogram, as PromQL estimates it) at least
#                         100 ms, and the mean at least 95 ms; median below 20 ms before
#
# The live table must show the same: node2's err% near 30 and its p50 at or above 100 ms in
# some table printed while those faults were active.
source "$(dirname "$0")/crm_stack_lib.sh"

start_stack faults --nodes 2 --rate 100 --duration 90s \
  --fault 'node1:cache_off@16s+12s' --fault 'node2:errors{rate=0.3}@16s+12s' \
  --fault 'node1:drop_index@32s+12s' --fault 'node2:latency{ms=100}@32s+12s'

python3 - "$(stack nodes.0.url)" "$(stack nodes.1.url)" "$(admin_token)" <<'PY' || fail "fault symptoms"
import json, re, sys, time, urllib.request

node1, node2, token = sys.argv[1:4]
failures = []

def get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.read().decode()

def scrape(node):
    series = {}
    for line in get(node + "/metrics").splitlines():
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$', line)
        if m:
            series[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return series

def total(series, name, *label_parts, exclude_routes=("/metrics", "/healthz")):
    return sum(v for (n, labels), v in series.items() if n == name
               and all(p in labels for p in label_parts)
               and not any(f'route="{r}"' in labels for r in exclude_routes))

def delta(a, b, name, *parts):
    return total(b, name, *parts) - total(a, name, *parts)

def quantile(a, b, q):
    buckets = {}
    for (n, labels), v in b.items():
        if n != "http_request_duration_seconds_bucket" or 'route="/metrics"' in labels or 'route="/healthz"' in labels:
            continue
        le = float(re.search(r'le="([^"]+)"', labels).group(1))
        buckets[le] = buckets.get(le, 0) + v - a.get((n, labels), 0)
    bounds = sorted(buckets)
    rank, lower, lower_count = q * buckets[float("inf")], 0.0, 0.0
    for upper in bounds:
        if buckets[upper] >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - lower_count) / (buckets[upper] - lower_count)
        lower, lower_count = upper, buckets[upper]

def active(node, fault_type):
    faults = json.loads(get(node + "/admin/faults", {"Authorization": "Bearer " + token}))["faults"]
    return [f for f in faults if f["type"] == fault_type and f["remaining_s"] > 0]

def wait_active(node, fault_type, limit_s=40):
    deadline = time.time() + limit_s
    while not active(node, fault_type):
        if time.time() > deadline:
            sys.exit(f"{fault_type} never became active on {node}")
        time.sleep(0.2)

def check(what, ok, detail):
    print(("ok   " if ok else "FAIL ") + f"{what}: {detail}", file=sys.stderr)
    if not ok:
        failures.append(what)

def window(seconds, during=()):
    time.sleep(1.0)  # requests already in flight when the fault began
    before = {n: scrape(n) for n in (node1, node2)}
    time.sleep(seconds)
    after = {n: scrape(n) for n in (node1, node2)}
    for node, fault_type in during:
        if not active(node, fault_type):
            sys.exit(f"{fault_type} on {node} ended before the window did; the machine is too slow")
    return before, after

# Baseline: the load starts right after stack.json appears; the first fault begins 16 s later,
# which leaves a loaded machine 9 s of slack; a baseline that overlapped a fault is refused.
base = window(6)
for node in (node1, node2):
    if any(active(node, t) for t in ("cache_off", "errors", "drop_index", "latency")):
        sys.exit("a fault began before the baseline window ended; the machine is too slow")
wait_active(node1, "cache_off")
wait_active(node2, "errors")
phase1 = window(8, [(node1, "cache_off"), (node2, "errors")])
wait_active(node1, "drop_index")
wait_active(node2, "latency")
phase2 = window(8, [(node1, "drop_index"), (node2, "latency")])

def hit_ratio(w):
    a, b = w[0][node1], w[1][node1]
    hits, misses = delta(a, b, "crm_cache_hits_total"), delta(a, b, "crm_cache_misses_total")
    return hits, misses, hits / (hits + misses) if hits + misses else float("nan")

hits, misses, ratio = hit_ratio(base)
check("cache hit ratio before cache_off", misses > 0 and ratio > 0.2, f"{hits:.0f} hits, {misses:.0f} misses, ratio {ratio:.2f}")
hits, misses, ratio = hit_ratio(phase1)
check("cache hit ratio during cache_off", hits == 0 and misses >= 20, f"{hits:.0f} hits, {misses:.0f} misses")

def error_share(w):
    a, b = w[0][node2], w[1][node2]
    requests = delta(a, b, "http_requests_total")
    errors = sum(delta(a, b, "http_requests_total", f'code="{c}"') for c in (500, 502, 503, 504))
    return requests, errors / requests if requests else float("nan")

requests, share = error_share(base)
check("5xx share before errors", requests > 50 and share == 0, f"{share:.3f} of {requests:.0f}")
requests, share = error_share(phase1)
check("5xx share during errors{rate=0.3}", requests >= 250 and abs(share - 0.3) <= 0.08, f"{share:.3f} of {requests:.0f}")

def rows_per_query(w, query="customer_orders"):
    a, b = w[0][node1], w[1][node1]
    rows = delta(a, b, "crm_db_rows_scanned_total", f'query="{query}"')
    runs = delta(a, b, "crm_db_query_duration_seconds_count", f'query="{query}"')
    return rows / runs if runs else float("nan"), runs

base_rows, base_runs = rows_per_query(base)
drop_rows, drop_runs = rows_per_query(phase2)
check("rows scanned per customer_orders query", base_runs > 5 and drop_runs > 5 and drop_rows >= 100 * base_rows,
      f"{base_rows:.1f} before ({base_runs:.0f} queries), {drop_rows:.0f} with the index dropped ({drop_runs:.0f} queries), x{drop_rows / max(base_rows, 1e-9):.0f}")

def latency(w):
    a, b = w[0][node2], w[1][node2]
    count = delta(a, b, "http_request_duration_seconds_count")
    mean = delta(a, b, "http_request_duration_seconds_sum") / count if count else float("nan")
    return quantile(a, b, 0.5), mean

p50, mean = latency(base)
check("node2 median before latency", p50 < 0.02, f"p50 {p50 * 1000:.1f} ms, mean {mean * 1000:.1f} ms")
p50, mean = latency(phase2)
check("node2 latency during latency{ms=100}", p50 >= 0.1 and mean >= 0.095, f"p50 {p50 * 1000:.1f} ms, mean {mean * 1000:.1f} ms")

sys.exit(1 if failures else 0)
PY

stop_stack

# The launcher said what it did, and its live table saw the symptoms too.
for fault in 'node1:cache_off' 'node2:errors' 'node1:drop_index' 'node2:latency'; do
  grep -q "fault $fault.* started on ${fault%%:*}" "$launcher_out" || fail "the launcher did not report starting $fault"
done
python3 - "$launcher_out" <<'PY' || fail "the live table did not show the faults"
import re, sys
tables, current = [], None
for line in open(sys.argv[1]):
    if re.match(r"^t=\d+s  faults: ", line):
        current = {"heading": line.strip(), "rows": {}}
        tables.append(current)
    elif current is not None and re.match(r"^  (proxy|node\d)\s", line):
        cells = line.split()
        current["rows"][cells[0]] = cells[1:]
def value(cell):
    return float("nan") if cell == "-" else float(cell)
errors = [value(t["rows"]["node2"][1]) for t in tables if "node2:errors" in t["heading"] and "node2" in t["rows"]]
slow = [value(t["rows"]["node2"][2]) for t in tables if "node2:latency" in t["heading"] and "node2" in t["rows"]]
print(f"live table: {len(tables)} tables; node2 err% while erroring {errors}; node2 p50 ms while slowed {slow}",
      file=sys.stderr)
ok = any(18 <= e <= 42 for e in errors) and any(p >= 100 for p in slow)
sys.exit(0 if ok else 1)
PY
log "PASS"
