#!/usr/bin/env bash
# Every route of the demo CRM through nginx, with status codes and bodies; nginx's stub_status
# (local only) and access log (twelve TAB-separated fields, as access_log_format.json says);
# a write invalidating the node's cached customer; Ctrl-C leaving nothing behind.
source "$(dirname "$0")/crm_stack_lib.sh"

start_stack routes --nodes 2 --rate 0 --duration 0s
proxy=$(stack nginx.url)
log "stack up: nginx at $proxy"

python3 - "$proxy" "$(stack nodes.0.url)" "$(stack nodes.1.url)" <<'PY' || fail "route checks failed"
import http.client, json, sys, urllib.parse

proxy, node1, node2 = sys.argv[1:4]
failures = []

def request(base, method, path, body=None):
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return response.status, parsed, response.headers

def check(what, condition, detail=""):
    if not condition:
        failures.append(f"{what}: {detail}")

def expect(method, path, status, body=None, base=None):
    got, parsed, headers = request(base or proxy, method, path, body)
    check(f"{method} {path}", got == status, f"status {got}, want {status}; body {parsed}")
    if status >= 400 and got == status:
        check(f"{method} {path} error body", isinstance(parsed, dict) and parsed.get("error"),
              f"want a JSON error, got {parsed}")
    return parsed, headers

# GET /api/customers/{id}
c1, headers = expect("GET", "/api/customers/1", 200)
check("customer 1 id", c1.get("id") == 1, c1)
for key in ("name", "email", "company", "created_at"):
    check(f"customer 1 {key}", isinstance(c1.get(key), str) and c1[key], c1)
check("customer 1 orders", isinstance(c1.get("orders", {}).get("count"), int), c1)
check("X-Crm-Node through nginx", headers.get("X-Crm-Node") in ("node1", "node2"), dict(headers))
check("Server-Timing through nginx", "db;dur=" in (headers.get("Server-Timing") or ""), dict(headers))
expect("GET", "/api/customers/999999", 404)
expect("GET", "/api/customers/abc", 400)
expect("GET", "/api/customers/0", 400)

# GET /api/customers?name=...
found, _ = expect("GET", "/api/customers?name=" + urllib.parse.quote(c1["name"]), 200)
names = found.get("customers", [])
check("search finds customer 1", any(c.get("id") == 1 for c in names), found)
check("search returns only that name", all(c.get("name") == c1["name"] for c in names), found)
found, _ = expect("GET", "/api/customers?name=Nobody%20Atall", 200)
check("search for an unknown name", found.get("customers") == [], found)
expect("GET", "/api/customers", 400)
expect("GET", "/api/customers?name=" + urllib.parse.quote(c1["name"]) + "&limit=0", 400)

# GET /api/customers/{id}/orders
orders, _ = expect("GET", "/api/customers/1/orders?limit=3", 200)
check("orders of customer 1", orders.get("customer_id") == 1 and
      all({"id", "amount_cents", "status", "created_at"} <= o.keys() for o in orders.get("orders", [])),
      orders)
check("orders limit", 0 < len(orders.get("orders", [])) <= 3, orders)
# Newest first by id (insertion order); the seeded created_at is not monotonic in id.
ids = [o.get("id") for o in orders.get("orders", [])]
check("orders newest first", ids == sorted(ids, reverse=True), ids)
expect("GET", "/api/customers/999999/orders", 404)
expect("GET", "/api/customers/1/orders?limit=abc", 400)

# POST /api/orders
order, _ = expect("POST", "/api/orders", 201, {"customer_id": 1, "amount_cents": 1234})
check("new order", order.get("customer_id") == 1 and order.get("amount_cents") == 1234 and
      isinstance(order.get("id"), int), order)
expect("POST", "/api/orders", 400, {"customer_id": 1})
expect("POST", "/api/orders", 400, {"customer_id": "one", "amount_cents": 5})
expect("POST", "/api/orders", 404, {"customer_id": 999999, "amount_cents": 5})
got, parsed, _ = request(proxy, "POST", "/api/orders")  # no body at all
check("POST /api/orders without a body", got == 400, f"{got} {parsed}")

# GET /api/tickets?status=...
tickets, _ = expect("GET", "/api/tickets?status=open&limit=5", 200)
listed = tickets.get("tickets", [])
check("tickets limit", 0 < len(listed) <= 5, tickets)
check("tickets all open", all(t.get("status") == "open" for t in listed), tickets)
expect("GET", "/api/tickets?status=bogus", 400)
expect("GET", "/api/tickets", 400)

# POST /api/tickets and PATCH /api/tickets/{id}
ticket, _ = expect("POST", "/api/tickets", 201,
                   {"customer_id": 1, "subject": "Invoice missing", "priority": "high"})
check("new ticket", ticket.get("status") == "open" and ticket.get("priority") == "high" and
      ticket.get("subject") == "Invoice missing", ticket)
expect("POST", "/api/tickets", 400, {"customer_id": 1})
expect("POST", "/api/tickets", 400, {"customer_id": 1, "subject": "x", "priority": "whenever"})
expect("POST", "/api/tickets", 404, {"customer_id": 999999, "subject": "x"})
updated, _ = expect("PATCH", f"/api/tickets/{ticket.get('id')}", 200, {"status": "closed"})
check("ticket closed", updated.get("status") == "closed" and updated.get("id") == ticket.get("id"),
      updated)
expect("PATCH", f"/api/tickets/{ticket.get('id')}", 400, {"status": "archived"})
expect("PATCH", f"/api/tickets/{ticket.get('id')}", 400, {})
expect("PATCH", "/api/tickets/999999", 404, {"status": "closed"})

# Health, unknown routes, methods
health, _ = expect("GET", "/healthz", 200)
check("healthz body", health == {"status": "ok"}, health)
expect("GET", "/api/nothing-here", 404)
expect("DELETE", "/api/customers/1", 405)

# A write invalidates the writing node's cached copy (each node has its own cache here).
before, _ = expect("GET", "/api/customers/2", 200, base=node1)
expect("GET", "/api/customers/2", 200, base=node1)  # now cached
expect("POST", "/api/orders", 201, {"customer_id": 2, "amount_cents": 500}, base=node1)
after, _ = expect("GET", "/api/customers/2", 200, base=node1)
check("order count after a write", after["orders"]["count"] == before["orders"]["count"] + 1,
      f"before {before['orders']}, after {after['orders']}")

# stub_status answers on loopback
got, status_page, _ = request(proxy, "GET", "/nginx_status")
check("stub_status", got == 200 and "Active connections:" in str(status_page), f"{got} {status_page}")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY

# The access log: twelve fields per line as the format file says; the writes are there with
# their status, the node that served them and its Server-Timing.
python3 - "$(stack nginx.access_log)" "$(stack nginx.access_log_format)" \
  "$(stack nodes.0.port)" "$(stack nodes.1.port)" <<'PY' || fail "access log checks failed"
import json, sys
log_path, format_path, port1, port2 = sys.argv[1:5]
fmt = json.load(open(format_path))
fields = fmt["fields"]
assert fields == ["msec", "request_method", "uri", "status", "request_time", "upstream_addr",
                  "upstream_status", "upstream_connect_time", "upstream_header_time",
                  "upstream_response_time", "body_bytes_sent", "upstream_http_server_timing"], fields
assert fmt["delimiter"] == "\t"
rows = []
for line in open(log_path):
    values = line.rstrip("\n").split(fmt["delimiter"])
    assert len(values) == len(fields), f"{len(values)} fields in {line!r}"
    rows.append(dict(zip(fields, values)))
nodes = {f"127.0.0.1:{port1}", f"127.0.0.1:{port2}"}
orders = [r for r in rows if r["request_method"] == "POST" and r["uri"] == "/api/orders"]
assert any(r["status"] == "201" for r in orders), orders
assert any(r["status"] == "404" for r in orders), orders
for r in orders:
    assert r["upstream_addr"] in nodes, r
    assert r["upstream_status"] == r["status"], r
    float(r["msec"]); float(r["request_time"]); float(r["upstream_response_time"])
    int(r["body_bytes_sent"])
gets = [r for r in rows if r["uri"] == "/api/customers/1" and r["status"] == "200"]
assert gets and all("db;dur=" in r["upstream_http_server_timing"] or
                    "cache;dur=" in r["upstream_http_server_timing"] for r in gets), gets
assert not any(r["uri"] == "/nginx_status" for r in rows), "stub_status must not be logged"
print(f"access log: {len(rows)} lines, all with {len(fields)} fields", file=sys.stderr)
PY

# stub_status is local-only: the config says so (every client here is 127.0.0.1).
grep -q 'allow 127.0.0.1;' "$(stack nginx.config)" && grep -q 'deny all;' "$(stack nginx.config)" ||
  fail "stub_status is not restricted to 127.0.0.1"

stop_stack
log "PASS"
