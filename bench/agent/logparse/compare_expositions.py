#!/usr/bin/env python3
"""Compares the crmscope agent's and mtail's text expositions of the same access log, family by
family: the request and attempt counters and the request-duration histogram's buckets and
counts. mtail's `prog` label is dropped, and a label whose value is "-" or empty counts as
absent (the agent leaves out the upstream of a request nginx answered itself; mtail writes the
"-" it captured).

mtail 3.0.0-rc50 counts an observation of exactly 0 in _count and _sum but in no bucket, not even
+Inf (its buckets are (lower, upper] starting at 0), where Prometheus's le=0.001 holds it. So per
histogram series, every agent bucket must equal mtail's plus the same number: mtail's _count
minus its +Inf bucket. That number is reported, not hidden.

usage: compare_expositions.py AGENT_FILE MTAIL_FILE EXPECTED_REQUESTS
Prints one line starting "check:" and exits 1 when anything differs.
"""
import re
import sys

FAMILIES = {
    "crmscope_proxy_requests_total": "requests_total",
    "crmscope_proxy_upstream_attempts_total": "attempts_total",
    "crmscope_proxy_request_duration_seconds_bucket": "duration_bucket",
    "crmscope_proxy_request_duration_seconds_count": "duration_count",
}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def read(path):
    series = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            m = SAMPLE.match(line)
            if not m or m.group(1) not in FAMILIES:
                continue
            labels = tuple(sorted((k, v) for k, v in LABEL.findall(m.group(2) or "")
                                  if k != "prog" and v not in ("", "-")))
            series[(m.group(1), labels)] = float(m.group(3))
    return series


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    agent, mtail, expected = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3])
    problems = []
    zeros = {}  # histogram series -> observations of 0 that mtail left out of its buckets
    for (name, labels), value in mtail.items():
        if name == "crmscope_proxy_request_duration_seconds_count":
            inf = mtail.get(("crmscope_proxy_request_duration_seconds_bucket",
                             tuple(sorted(labels + (("le", "+Inf"),)))), 0)
            zeros[labels] = value - inf
    for key in sorted(set(agent) | set(mtail)):
        a, m = agent.get(key), mtail.get(key)
        if key[0] == "crmscope_proxy_request_duration_seconds_bucket" and m is not None:
            m += zeros.get(tuple(l for l in key[1] if l[0] != "le"), 0)
        if a is None or m is None or abs(a - m) > 1e-9 * max(1.0, abs(a)):
            problems.append("%s%s agent=%s mtail=%s" % (key[0], dict(key[1]), a, m))
    counts = {short: sum(1 for name, _ in agent if name == family)
              for family, short in FAMILIES.items()}
    requests = sum(v for (name, _), v in agent.items() if name == "crmscope_proxy_requests_total")
    if requests != expected:
        problems.append("agent counted %d requests, the log has %d lines" % (requests, expected))
    summary = ", ".join("%s %d series" % (short, n) for short, n in counts.items())
    if problems:
        print("check: MISMATCH (%d): %s" % (len(problems), "; ".join(problems[:5])))
        sys.exit(1)
    print("check: identical counts, %d requests; %s; mtail left %d observations of 0 s out of "
          "its buckets" % (requests, summary, sum(zeros.values())))


if __name__ == "__main__":
    main()
