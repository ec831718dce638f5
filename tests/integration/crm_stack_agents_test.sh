#!/usr/bin/env bash
# The demo's agents ship what the issue says they sample: the proxy's agent its access log
# (crmscope_proxy_*), stub_status and the host; each node's agent a scrape of the node (up and the
# node's own series), a probe of /healthz and the node's process. Read back from the collector's
# /api/v1/series, with the label values that tie each series to its node.
source "$(dirname "$0")/crm_stack_lib.sh"

start_stack agents --nodes 2 --rate 40 --duration 0s
collector=$(stack collector.url)
node1=$(stack nodes.0.url) node2=$(stack nodes.1.url)
log "stack up: collector at $collector"

python3 - "$collector" "${node1#http://}" "${node2#http://}" <<'PY' || fail "agent series missing"
import json, sys, time, urllib.parse, urllib.request

collector, node1, node2 = sys.argv[1:4]

def series(match):
    url = collector + "/api/v1/series?" + urllib.parse.urlencode({"match[]": match})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["data"]

def wait_for(match, check, what):
    deadline = time.time() + 60
    found = []
    while time.time() < deadline:
        found = series(match)
        if check(found):
            print("ok:", what, "(%d series)" % len(found))
            return
        time.sleep(0.5)
    print("FAIL:", what, "- got", json.dumps(found)[:600], file=sys.stderr)
    sys.exit(1)

def values(found, label):
    return {s.get(label) for s in found}

# The proxy's agent: the access log, with the node that answered as `upstream`.
wait_for('crmscope_proxy_requests_total{route="/api/customers/{id}"}',
         lambda f: {node1, node2} <= values(f, "upstream"), "proxy requests by upstream and route")
wait_for("crmscope_proxy_request_duration_seconds_bucket", lambda f: len(f) > 0, "proxy duration histogram")
wait_for("nginx_connections_active", lambda f: len(f) == 1, "stub_status")
wait_for("node_cpu_seconds_total", lambda f: len(f) > 0, "host CPU")
# Each node's agent: the scrape, its synthetic series, the node's own families, probe, process.
wait_for('up{job="crm-node"}', lambda f: values(f, "instance") == {node1, node2}, "scrape up per node")
wait_for('http_requests_total{job="crm-node"}', lambda f: values(f, "node") == {"node1", "node2"},
         "node metrics with the target's labels")
wait_for("probe_success", lambda f: len(f) == 2, "probes of /healthz")
wait_for("process_resident_memory_bytes{process=~\"node.\"}",
         lambda f: values(f, "process") == {"node1", "node2"}, "node processes")
wait_for('{__name__=~".+", agent="proxy"}', lambda f: len(f) > 10, "external label agent=proxy")
PY
stop_stack
log "passed"
