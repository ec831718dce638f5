#!/usr/bin/env python3
"""Runs the PromQL compliance queries against a reference and a tested Prometheus HTTP API and
compares the answers as the public compliance tester (prometheus/compliance, promql/) does:

  - templates expand over their variant_args in the tester's order (the first listed argument
    varies slowest), with the tester's values;
  - every case is a range query: end = newest sample - 12m, start = end - 10m, step 10s, sent as
    a form-encoded POST (GET when a server answers 405), as client_golang sends it;
  - should_fail cases pass when both sides fail; otherwise the reference must succeed, and the
    tested side failing is a failure, "unsupported" when it answered 501;
  - results (matrices) are sorted by label set; label sets must be equal, timestamps equal to the
    millisecond, values equal within a relative 1e-5 (cmpopts.EquateApprox(1e-5, 0)), NaN == NaN.

Prints a diff for each case that does not pass, then, last, exactly
passed=<n> failed=<n> unsupported=<n> total=<n>. Exits 1 unless every case passed.
"""
import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import yaml

# testcases/expand.go's testVariantArgs.
VARIANT_ARGS = {
    "range": ["1s", "15s", "1m", "5m", "15m", "1h"],
    "offset": ["1m", "5m", "10m"],
    "simpleAggrOp": ["sum", "avg", "max", "min", "count", "stddev", "stdvar"],
    "simpleTimeAggrOp": ["sum", "avg", "max", "min", "count", "stddev", "stdvar", "absent", "last"],
    "topBottomOp": ["topk", "bottomk"],
    "quantile": ["-0.5", "0.1", "0.5", "0.75", "0.95", "0.90", "0.99", "1", "1.5"],
    "arithBinOp": ["+", "-", "*", "/", "%", "^"],
    "compBinOp": ["==", "!=", "<", ">", "<=", ">="],
    "binOp": ["+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">="],
    "simpleMathFunc": ["abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "round"],
    "extrapolatedRateFunc": ["delta", "rate", "increase"],
    "clampFunc": ["clamp_min", "clamp_max"],
    "instantRateFunc": ["idelta", "irate"],
    "dateFunc": ["day_of_month", "day_of_week", "days_in_month", "hour", "minute", "month", "year"],
    "smoothingFactor": ["0.1", "0.5", "0.8"],
    "trendFactor": ["0.1", "0.5", "0.8"],
}
FRACTION = 1e-5  # the tester's defaultFraction; its defaultMargin is 0
QUICK_CASES = 60
PLACEHOLDER = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


class Case:
    def __init__(self, query, should_fail, skip_comparison):
        self.query, self.should_fail, self.skip_comparison = query, should_fail, skip_comparison


def variants(template, args, chosen):
    if not args:
        return [PLACEHOLDER.sub(lambda m: chosen[m.group(1)], template)]
    first, rest = args[0], [a for a in args if a != args[0]]
    if first not in VARIANT_ARGS:
        raise SystemExit(f"unknown variant arg {first!r} in {template!r}")
    out = []
    for value in VARIANT_ARGS[first]:
        out += variants(template, rest, dict(chosen, **{first: value}))
    return out


def expand(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    cases = []
    for tc in doc.get("test_cases") or []:
        for query in variants(tc["query"], tc.get("variant_args") or [], {}):
            cases.append(Case(query, bool(tc.get("should_fail")), bool(tc.get("skip_comparison"))))
    return cases


def quick_sample(cases):
    """Every k-th case: deterministic, and spread over every part of the file."""
    stride = max(1, math.ceil(len(cases) / QUICK_CASES))
    return cases[::stride]


class Answer:
    """A query's outcome: a matrix {labels tuple: [(ms, value)]}, or an error."""

    def __init__(self, matrix=None, error=None, status=200, null_result=False):
        self.matrix, self.error, self.status = matrix, error, status
        # "result": null where Prometheus sends []: go-cmp tells a nil Matrix from an empty one.
        self.null_result = null_result


def query_range(base_url, query, start_ms, end_ms, step_s):
    params = urllib.parse.urlencode({
        "query": query, "start": f"{start_ms / 1000:.3f}", "end": f"{end_ms / 1000:.3f}",
        "step": f"{step_s:g}"}).encode()
    url = base_url.rstrip("/") + "/api/v1/query_range"
    request = urllib.request.Request(
        url, data=params, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        try:
            body, status = fetch(request)
        except urllib.error.HTTPError as e:
            if e.code != 405:
                raise
            body, status = fetch(urllib.request.Request(url + "?" + params.decode()))
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        return Answer(error=f"HTTP {e.code}: {text[:300]}", status=e.code)
    except OSError as e:
        return Answer(error=f"request failed: {e}", status=0)
    return parse_answer(body, status)


def fetch(request):
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read(), response.status


def parse_answer(body, status):
    try:
        # Timestamps as text, to read them as client_golang does: milliseconds, digits truncated.
        doc = json.loads(body, parse_float=str, parse_int=str)
    except ValueError:
        return Answer(error=f"not JSON: {body[:200]!r}", status=status)
    if doc.get("status") != "success":
        return Answer(error=f"{doc.get('errorType')}: {doc.get('error')}", status=status)
    data = doc.get("data") or {}
    if data.get("resultType") != "matrix":
        return Answer(error=f"resultType {data.get('resultType')!r}, not matrix", status=status)
    matrix = {}
    for series in data.get("result") or []:
        labels = tuple(sorted((series.get("metric") or {}).items()))
        points = [(timestamp_ms(t), float(v)) for t, v in series.get("values") or []]
        if labels in matrix:
            return Answer(error=f"label set {format_labels(labels)} twice", status=status)
        matrix[labels] = points
    return Answer(matrix=matrix, status=status, null_result=data.get("result") is None)


def timestamp_ms(text):
    seconds, _, fraction = text.partition(".")
    ms = int(seconds) * 1000 + int((fraction + "000")[:3]) * (-1 if seconds.startswith("-") else 1)
    return ms


def format_labels(labels):
    name = dict(labels).get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in labels if k != "__name__")
    return f"{name}{{{rest}}}"


def values_equal(x, y):
    if x == y or (math.isnan(x) and math.isnan(y)):
        return True
    return abs(x - y) <= FRACTION * min(abs(x), abs(y))


def diff_matrices(ref, test, max_lines=12):
    """Lines describing every difference, at most max_lines of them (the rest counted)."""
    lines = []
    for labels in sorted(set(ref) | set(test)):
        if labels not in test:
            lines.append(f"  - only in reference: {format_labels(labels)} ({len(ref[labels])} points)")
        elif labels not in ref:
            lines.append(f"  + only in tested:    {format_labels(labels)} ({len(test[labels])} points)")
        else:
            lines += diff_points(format_labels(labels), ref[labels], test[labels])
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"  ... and {len(lines) - max_lines} more differences"]
    return lines


def diff_points(name, ref, test):
    ref_at, test_at = dict(ref), dict(test)
    bad = []
    for t in sorted(set(ref_at) | set(test_at)):
        r, s = ref_at.get(t), test_at.get(t)
        if r is None or s is None or not values_equal(r, s):
            bad.append((t, r, s))
    if not bad:
        return []
    t, r, s = bad[0]
    return [f"  ~ {name}: {len(bad)} of {len(ref)} points differ; first at {t / 1000:.3f}: "
            f"reference {fmt(r)}, tested {fmt(s)}"]


def fmt(v):
    return "absent" if v is None else repr(v)


def compare(case, ref, test):
    """(outcome, diff lines), outcome one of passed, failed, unsupported."""
    if ref.error is not None and not case.should_fail:
        return "failed", [f"  reference failed: {ref.error}"]
    if ref.error is None and case.should_fail:
        return "failed", ["  reference succeeded where the case expects an error"]
    if (test.error is not None) != case.should_fail:
        if test.error is not None:
            outcome = "unsupported" if test.status == 501 else "failed"
            return outcome, [f"  tested failed: {test.error}"]
        return "failed", ["  tested succeeded where an error is expected"]
    if case.should_fail or case.skip_comparison:
        return "passed", []
    lines = diff_matrices(ref.matrix, test.matrix)
    if test.null_result and not ref.null_result:
        lines.append('  tested sent "result": null where the reference sent []')
    return ("failed" if lines else "passed"), lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", required=True)
    parser.add_argument("--reference", required=True, help="base URL of the reference API")
    parser.add_argument("--tested", required=True, help="base URL of the tested API")
    parser.add_argument("--newest-ms", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--match", help="only the expanded queries this regex finds")
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    cases = expand(args.queries)
    if args.quick:
        cases = quick_sample(cases)
    if args.match:
        cases = [c for c in cases if re.search(args.match, c.query)]
    end_ms = args.newest_ms - 12 * 60 * 1000
    start_ms = end_ms - 10 * 60 * 1000

    def run(case):
        ref = query_range(args.reference, case.query, start_ms, end_ms, 10)
        test = query_range(args.tested, case.query, start_ms, end_ms, 10)
        return compare(case, ref, test), ref

    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        outcomes = list(pool.map(run, cases))
    counts = {"passed": 0, "failed": 0, "unsupported": 0}
    # How much the reference answered: a harness whose data the queries miss would pass on
    # empty results.
    answered = {"with points": 0, "empty": 0, "errors": 0}
    for case, ((outcome, lines), ref) in zip(cases, outcomes):
        counts[outcome] += 1
        answered["errors" if ref.error else "with points" if ref.matrix else "empty"] += 1
        if outcome != "passed":
            print(f"{outcome.upper()}: {case.query}")
            print("\n".join(lines))
    print("reference answers: " + ", ".join(f"{n} {what}" for what, n in answered.items()))
    print(f"passed={counts['passed']} failed={counts['failed']} "
          f"unsupported={counts['unsupported']} total={len(cases)}")
    sys.exit(0 if counts["passed"] == len(cases) else 1)


if __name__ == "__main__":
    main()
