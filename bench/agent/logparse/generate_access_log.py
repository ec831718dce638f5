#!/usr/bin/env python3
"""Writes a deterministic nginx access log in the crmscope demo's format (12 TAB-separated
fields, crm_demo/launcher/access_log.h) for the log-parsing benchmark.

The mix follows the demo's load generator: customer reads by id, searches, order history, ticket
lists and updates, order creation, plus attachment downloads by UUID; three upstream nodes,
about 1% of requests retried on a second node (connect refused -> 502, or a timeout -> 504),
some 5xx answers, a few requests nginx answers itself (no upstream), and Server-Timing stages.

usage: generate_access_log.py LINES OUT_FILE [SEED]
"""
import random
import sys

UPSTREAMS = ["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"]

# (weight, method, path template); {n} is a numeric id, {uuid} a UUID.
ROUTES = [
    (40, "GET", "/api/customers/{n}"),
    (10, "GET", "/api/customers"),
    (15, "GET", "/api/customers/{n}/orders"),
    (10, "GET", "/api/tickets"),
    (10, "POST", "/api/orders"),
    (5, "POST", "/api/tickets"),
    (8, "PATCH", "/api/tickets/{n}"),
    (2, "GET", "/api/attachments/{uuid}"),
]


def ms(seconds):
    return "%.3f" % seconds


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def duration(rng):
    # Mostly milliseconds, a tail into seconds: a CRM read, a slow query, a lock wait.
    r = rng.random()
    if r < 0.90:
        return rng.uniform(0.001, 0.060)
    if r < 0.99:
        return rng.uniform(0.060, 0.800)
    return rng.uniform(0.8, 6.0)


def line(rng, i, weights):
    msec = "%.3f" % (1732698000 + i * 0.005)
    _, method, template = rng.choices(ROUTES, weights=weights)[0]
    path = template.replace("{n}", str(rng.randint(1, 200000))).replace("{uuid}", uuid(rng))
    body = str(rng.randint(200, 20000))
    if rng.random() < 0.001:
        # nginx answers by itself: every upstream variable is "-".
        return "\t".join([msec, "GET", "/favicon.ico", "404", "0.000", "-", "-", "-", "-", "-",
                          "153", "-"])
    total = duration(rng)
    first = rng.randrange(3)
    addrs, statuses, connects, headers, responses = [], [], [], [], []
    r = rng.random()
    if r < 0.007:  # connect refused on the first node, retried on the next
        addrs.append(UPSTREAMS[first])
        statuses.append("502")
        connects.append("-")
        headers.append("-")
        responses.append("0.000")
        first = (first + 1) % 3
    elif r < 0.010:  # timed out on the first node, retried on the next
        addrs.append(UPSTREAMS[first])
        statuses.append("504")
        connects.append("0.000")
        headers.append("-")
        responses.append("1.000")
        total += 1.0
        first = (first + 1) % 3
    status = "200" if method == "GET" else ("201" if method == "POST" else "200")
    s = rng.random()
    if s < 0.004:
        status = "500"
    elif s < 0.006:
        status = "503"
    elif s < 0.016 and "{n}" in template:
        status = "404"
    upstream_time = max(0.001, total - 0.001)
    addrs.append(UPSTREAMS[first])
    statuses.append(status)
    connects.append("0.000")
    headers.append(ms(upstream_time * 0.95))
    responses.append(ms(upstream_time))
    cache = rng.uniform(0.005, 0.4)
    db = rng.uniform(0.1, upstream_time * 1000 * 0.8)
    timing = "cache;dur=%.3f, db;dur=%.3f" % (cache, db)
    return "\t".join([msec, method, path, status, ms(total), ", ".join(addrs),
                      ", ".join(statuses), ", ".join(connects), ", ".join(headers),
                      ", ".join(responses), body, timing])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    lines, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20241127)
    weights = [w for w, _, _ in ROUTES]
    with open(out, "w") as f:
        batch = []
        for i in range(lines):
            batch.append(line(rng, i, weights))
            if len(batch) == 10000:
                f.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            f.write("\n".join(batch) + "\n")


if __name__ == "__main__":
    main()
