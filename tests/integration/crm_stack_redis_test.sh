#!/usr/bin/env bash
# --cache redis: the launcher starts a real redis-server and both nodes use it as one shared
# cache. A customer read on node1 fills Redis, so the same read on node2 is a hit there; a write
# on node2 invalidates it for node1 too (which per-node LRU caches cannot do); under load the
# nodes' hit counters grow; Redis holds keys; shutdown takes redis-server down with the rest.
source "$(dirname "$0")/crm_stack_lib.sh"

start_stack redis --nodes 2 --cache redis --rate 0 --duration 0s
redis_address=$(stack redis.address)
redis_port=${redis_address##*:}
[ "$(redis-cli -p "$redis_port" PING)" = PONG ] || fail "redis-server at $redis_address does not answer"

python3 - "$(stack nodes.0.url)" "$(stack nodes.1.url)" "$(stack nginx.url)" <<'PY' || fail "shared Redis cache checks"
import json, re, sys, urllib.request

node1, node2, proxy = sys.argv[1:4]
failures = []

def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())

def cache(node):
    text = urllib.request.urlopen(node + "/metrics", timeout=10).read().decode()
    value = lambda name: float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))
    return value("crm_cache_hits_total"), value("crm_cache_misses_total")

def check(what, ok, detail):
    print(("ok   " if ok else "FAIL ") + f"{what}: {detail}", file=sys.stderr)
    if not ok:
        failures.append(what)

h1, m1 = cache(node1)
h2, m2 = cache(node2)
first = call(node1 + "/api/customers/7")
h1b, m1b = cache(node1)
check("first read on node1 misses", (h1b - h1, m1b - m1) == (0, 1), f"hits +{h1b - h1:.0f}, misses +{m1b - m1:.0f}")
second = call(node2 + "/api/customers/7")
h2b, m2b = cache(node2)
check("same read on node2 hits the shared cache", (h2b - h2, m2b - m2) == (1, 0), f"hits +{h2b - h2:.0f}, misses +{m2b - m2:.0f}")
check("both nodes return the same customer", first == second, f"{first} vs {second}")

call(node2 + "/api/orders", {"customer_id": 7, "amount_cents": 999})
third = call(node1 + "/api/customers/7")
h1c, m1c = cache(node1)
check("a write on node2 invalidates node1's read", m1c - m1b == 1 and
      third["orders"]["count"] == first["orders"]["count"] + 1,
      f"misses +{m1c - m1b:.0f}, order count {first['orders']['count']} -> {third['orders']['count']}")

# Some traffic through nginx over a small set of customers: mostly hits.
for i in range(200):
    call(proxy + f"/api/customers/{i % 20 + 1}")
hits = sum(cache(n)[0] for n in (node1, node2)) - h1 - h2
check("cache hits under load through nginx", hits >= 150, f"{hits:.0f} hits in 200 reads of 20 customers")
sys.exit(1 if failures else 0)
PY

keys=$(redis-cli -p "$redis_port" DBSIZE)
[ "$keys" -ge 20 ] || fail "Redis holds $keys keys after reads of 20 customers"
log "Redis holds $keys keys"
stop_stack
! redis-cli -p "$redis_port" PING >/dev/null 2>&1 || fail "redis-server still answers after the launcher stopped"
log "PASS"
