#!/usr/bin/env python3
"""Times the query benchmark's range queries against the collector and Prometheus (see run.sh).

A first, unmeasured round warms both servers and checks that they answer alike (compared as the
conformance harness compares: a fast wrong answer is no speed-up). Then --runs rounds; in each,
every query goes to both sides one after the other, the side that goes first alternating by round
and query, so a slow phase of the machine falls on both. A latency is the time from sending the
request to having read the whole answer.

Prints, per query, the median latency of each side and their ratio, then, last, exactly
query_latency_ratio_vs_prometheus=<geometric mean of collector / Prometheus over the queries>.
"""
import argparse
import math
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "promql_conformance"))
import compare  # noqa: E402  (the conformance harness's parsing and comparison)

QUERIES = [
    ("sum_rate_by_route", "sum by (route) (rate(http_requests_total[5m]))"),
    ("histogram_quantile_p99",
     "histogram_quantile(0.99, sum by (le, instance) (rate(http_request_duration_seconds_bucket[5m])))"),
    # Time spent serving (a float sum) rather than request counts, whose integer rates tie at the
    # 5th place often enough that engines may rightly pick different series.
    ("topk5_route_instance",
     "topk(5, sum by (route, instance) (rate(http_request_duration_seconds_sum[5m])))"),
    ("avg_over_time_gauge", "avg_over_time(http_requests_in_flight[5m])"),
    ("group_left_join",
     "sum by (instance) (rate(http_requests_total[5m])) * on (instance) group_left (region, version)"
     " crm_instance_info"),
]


def timed_query(base_url, query, start_s, end_s, step_s):
    """(seconds, body bytes): one range query as Grafana sends it, a form-encoded POST."""
    data = urllib.parse.urlencode({"query": query, "start": f"{start_s:.3f}", "end": f"{end_s:.3f}",
                                   "step": f"{step_s:g}"}).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/query_range", data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
    return time.perf_counter() - began, body


def check_alike(name, query, answers):
    """Prints how the two sides' answers differ; returns whether they are alike."""
    parsed = {side: compare.parse_answer(body, 200) for side, body in answers.items()}
    for side, answer in parsed.items():
        if answer.error is not None:
            print(f"warning: {name}: {side} failed: {answer.error}")
            return False
    lines = compare.diff_matrices(parsed["prometheus"].matrix, parsed["collector"].matrix, 5)
    if lines:
        print(f"warning: {name}: the collector's answer differs from Prometheus's ({query})")
        print("\n".join(lines))
        return False
    series = len(parsed["prometheus"].matrix)
    points = sum(len(p) for p in parsed["prometheus"].matrix.values())
    print(f"{name}: both answer {series} series, {points} points")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collector", required=True)
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start-ms", type=int, required=True)
    parser.add_argument("--end-ms", type=int, required=True)
    parser.add_argument("--step", type=float, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    urls = {"collector": args.collector, "prometheus": args.prometheus}
    start_s, end_s = args.start_ms / 1000, args.end_ms / 1000

    all_alike = True
    for name, query in QUERIES:
        answers = {}
        for side, url in urls.items():
            try:
                answers[side] = timed_query(url, query, start_s, end_s, args.step)[1]
            except OSError as e:  # HTTPError included: a side that cannot answer cannot be timed
                detail = e.read().decode(errors="replace")[:300] if hasattr(e, "read") else ""
                sys.exit(f"{name}: {side} failed: {e} {detail}")
        all_alike = check_alike(name, query, answers) and all_alike

    latencies = {name: {"collector": [], "prometheus": []} for name, _ in QUERIES}
    for run in range(args.runs):
        for index, (name, query) in enumerate(QUERIES):
            order = ["collector", "prometheus"] if (run + index) % 2 == 0 else ["prometheus", "collector"]
            for side in order:
                seconds, _ = timed_query(urls[side], query, start_s, end_s, args.step)
                latencies[name][side].append(seconds)

    print(f"{'query':<24} {'collector_ms':>12} {'prometheus_ms':>13} {'ratio':>7}   "
          f"(medians of {args.runs} runs, {args.step:g} s step)")
    ratios = []
    for name, _ in QUERIES:
        c = statistics.median(latencies[name]["collector"]) * 1000
        p = statistics.median(latencies[name]["prometheus"]) * 1000
        ratios.append(c / p)
        print(f"{name:<24} {c:>12.1f} {p:>13.1f} {c / p:>7.3f}")
    if not all_alike:
        print("warning: the answers differ (above); the latencies compare unlike work")
    geometric_mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"query_latency_ratio_vs_prometheus={geometric_mean:.3f}")


if __name__ == "__main__":
    main()
