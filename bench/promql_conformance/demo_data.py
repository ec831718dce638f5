#!/usr/bin/env python3
"""Writes, deterministically, the samples the PromQL compliance queries expect: three targets of
PromLabs' demo service (instance demo.promlabs.com:10000..10002, job "demo") scraped every 5 s, as
OpenMetrics text that `promtool tsdb create-blocks-from openmetrics` reads and load_samples sends
over remote write. The same file feeds both sides, so both hold bit-identical samples.

The series follow the demo service's simulations (cpu.go, memory.go, disk.go, api.go, batch.go,
intermittent_metric.go), driven by a seeded generator instead of wall-clock randomness, plus what
the real data has and a synthetic set would miss:
  - each target scrapes at its own offset in the 5 s interval, one with a few ms of jitter, so
    query steps fall both on and between samples;
  - demo_intermittent_metric is exposed 4 minutes out of 10, so it disappears for longer than the
    5-minute lookback and returns;
  - target 10002 restarts inside the compared window: two failed scrapes (up=0), then counters
    and histograms start again from zero (counter resets) and the batch gauge is back to 0;
  - a histogram's status="500" series appears only with its first error (a series that starts in
    the middle of the data).
With --stale-markers, the scrape after a series vanished writes Prometheus's stale NaN, as a real
scrape does; its value is spelled StaleNaN, which promtool cannot read, so that file is for remote
write only. Lines are in time order, as a series' samples must arrive.

usage: demo_data.py --out FILE [--end-ms MS] [--hours H] [--stale-markers]
The last line on stdout is newest_ms=<timestamp of the newest sample>.
"""
import argparse
import random

INTERVAL_MS = 5000
TARGETS = [  # port, scrape offset (ms), jitter (ms), cpus
    (10000, 0, 0, 4),
    (10001, 1234, 0, 8),
    (10002, 3711, 3, 2),
]
RESTARTING_TARGET = 2
RESTART_BEFORE_END_MS = 17 * 60 * 1000  # inside [end-22m, end-12m], the window the tester queries
DOWN_SCRAPES = 2
# prometheus.DefBuckets, the demo service's classic buckets.
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
API_ROUTES = [  # path, method, base latency (s), error ratio, outage period (s)
    ("/api/foo", "GET", 0.010, 0.005, 23),
    ("/api/foo", "POST", 0.020, 0.02, 60),
    ("/api/bar", "GET", 0.015, 0.0025, 13),
    ("/api/bar", "POST", 0.050, 0.01, 47),
]
MIB = 1024 * 1024
# The last scrape of the first target: 2024-03-01T00:17:40Z. The compared window (newest - 22m ..
# newest - 12m, about 23:55:44 to 00:05:44) spans the midnight after the leap day 2024-02-29, so
# minute, hour, day_of_month, day_of_week, days_in_month and month all change inside it.
DEFAULT_END_MS = 1709251200000 + 17 * 60 * 1000 + 40 * 1000


def fmt(v):
    """Shortest round-trip text of a double, as OpenMetrics and promtool accept it."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class Target:
    """One demo service process: its state survives between scrapes and is reset by a restart."""

    def __init__(self, index, seed):
        self.port, self.offset_ms, self.jitter_ms, self.cpus = TARGETS[index]
        self.rng = random.Random(seed * 1000 + index)
        self.instance = f"demo.promlabs.com:{self.port}"
        self.total_mem = (16 if index == 1 else 8) * 1024 * MIB
        self.disk_total = (index + 1) * 100 * 1024 * MIB
        self.start(first=True)

    def start(self, first=False):
        self.cpu = {"idle": 0.0, "user": 0.0, "system": 0.0}
        self.mem = dict(self.memory_bases())
        if first:
            self.disk = float(int(0.1 * self.disk_total))
        # route -> status -> [bucket counts..., sum, count]; a status exists once observed.
        self.hist = {route: {} for route in API_ROUTES}
        self.last_success = 0.0
        self.next_batch_s = None
        self.started_s = None

    def memory_bases(self):
        # Whole bytes, as the service's uint64 gauges are.
        return (("used", float(self.total_mem * 4 // 10)), ("cached", float(self.total_mem // 5)),
                ("buffers", float(self.total_mem // 20)))

    def scrape_ms(self, grid_ms):
        jitter = self.rng.randint(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0
        return grid_ms + self.offset_ms + jitter

    def advance(self, t_ms):
        """Simulates the 5 s up to t_ms."""
        t_s = t_ms / 1000
        if self.started_s is None:
            self.started_s = t_s
            self.next_batch_s = t_s + 30 + self.port % 7
        r = self.rng.random
        factor = self.cpus * INTERVAL_MS / 1000
        user = (0.3 + (r() - 0.5) / 5) * factor
        system = (0.1 + (r() - 0.5) / 5) * factor
        self.cpu["user"] += user
        self.cpu["system"] += system
        self.cpu["idle"] += factor - user - system
        for kind, base in self.memory_bases():
            current = self.mem[kind] + float(int((r() - 0.5) * 60 * MIB))
            if abs(current - base) > base * 0.2:
                current = base
            self.mem[kind] = current
        self.disk += float(int(5 * MIB * (1 - (r() - 0.5))))
        if self.disk > 0.9 * self.disk_total:
            self.disk = float(int(0.1 * self.disk_total))
        for route in API_ROUTES:
            self.observe_requests(route, t_s)
        while self.next_batch_s <= t_s:
            if r() > 0.1:
                # Batch completion times carry milliseconds, as the service's time.Now() does.
                self.last_success = round(self.next_batch_s + r(), 3)
            self.next_batch_s += 60

    def observe_requests(self, route, t_s):
        _, _, base, error_ratio, outage_s = route
        in_outage = (t_s - self.started_s) % (10 * outage_s) < outage_s
        r = self.rng.random
        for _ in range(3 + int(r() * 8)):
            latency = base * (1 + (r() - 0.5) / 2.5) * (3 if in_outage else 1)
            status = "500" if r() <= error_ratio * (10 if in_outage else 1) else "200"
            counts = self.hist[route].setdefault(status, [0.0] * (len(BUCKETS) + 3))
            for i, le in enumerate(BUCKETS):
                if latency <= le:
                    counts[i] += 1
            counts[len(BUCKETS)] += 1  # +Inf
            counts[-2] += latency
            counts[-1] += 1

    def exposition(self, t_ms):
        """(name, {labels}, value) of every series one scrape returns."""
        out = [("demo_num_cpus", {}, float(self.cpus))]
        for mode in ("idle", "system", "user"):
            out.append(("demo_cpu_usage_seconds_total", {"mode": mode}, self.cpu[mode]))
        free = self.total_mem - self.mem["used"] - self.mem["cached"] - self.mem["buffers"]
        for kind, value in (("buffers", self.mem["buffers"]), ("cached", self.mem["cached"]),
                            ("free", free), ("used", self.mem["used"])):
            out.append(("demo_memory_usage_bytes", {"type": kind}, value))
        out.append(("demo_disk_usage_bytes", {}, self.disk))
        out.append(("demo_disk_total_bytes", {}, float(self.disk_total)))
        out.append(("demo_batch_last_success_timestamp_seconds", {}, self.last_success))
        for (path, method, *_), statuses in self.hist.items():
            for status in sorted(statuses):
                counts = statuses[status]
                labels = {"method": method, "path": path, "status": status}
                for i, le in enumerate(BUCKETS + ["+Inf"]):
                    out.append(("demo_api_request_duration_seconds_bucket",
                                dict(labels, le=str(le)), counts[i]))
                out.append(("demo_api_request_duration_seconds_sum", labels, counts[-2]))
                out.append(("demo_api_request_duration_seconds_count", labels, counts[-1]))
        if (t_ms // 60000) % 10 < 4:
            out.append(("demo_intermittent_metric", {}, 1.0))
        return out


def escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series_text(name, labels):
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def line(key, value, t_ms):
    return f"{key} {value} {t_ms // 1000}.{t_ms % 1000:03d}\n"


def generate(out, end_ms, hours, stale_markers, seed):
    targets = [Target(i, seed) for i in range(len(TARGETS))]
    scrapes = int(hours * 3600 * 1000 // INTERVAL_MS)
    first_grid = end_ms - (scrapes - 1) * INTERVAL_MS
    restart_grid = end_ms - RESTART_BEFORE_END_MS
    exposed = [set() for _ in targets]  # series of each target's previous scrape
    newest = 0
    for step in range(scrapes):
        grid = first_grid + step * INTERVAL_MS
        for i, target in enumerate(targets):
            t = target.scrape_ms(grid)
            base = {"instance": target.instance, "job": "demo"}
            down_step = (grid - restart_grid) // INTERVAL_MS
            down = i == RESTARTING_TARGET and 0 <= down_step < DOWN_SCRAPES
            if down and down_step == 0:
                target.start()
            now = set()
            if not down:
                target.advance(t)
                for name, labels, value in target.exposition(t):
                    key = series_text(name, dict(labels, **base))
                    now.add(key)
                    out.write(line(key, fmt(value), t))
            if stale_markers:
                for key in sorted(exposed[i] - now):
                    out.write(line(key, "StaleNaN", t))
            exposed[i] = now
            out.write(line(series_text("up", base), "0.0" if down else "1.0", t))
            newest = max(newest, t)
    out.write("# EOF\n")
    return newest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--end-ms", type=int, default=DEFAULT_END_MS)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stale-markers", action="store_true")
    args = parser.parse_args()
    with open(args.out, "w") as out:
        newest = generate(out, args.end_ms, args.hours, args.stale_markers, args.seed)
    print(f"newest_ms={newest}")


if __name__ == "__main__":
    main()
