#include "crm_demo/loadgen/report.h"

#include <cstdio>

namespace crmscope::loadgen {

namespace {

constexpr double kNsPerMs = 1e6;

struct Percentile {
  const char* json_name;
  double q;
};
constexpr Percentile kPercentiles[] = {
    {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99_9", 0.999}};

double Ms(int64_t ns) { return static_cast<double>(ns) / kNsPerMs; }

void AppendRow(std::string* out, const char* name, const OperationStats& op, double seconds) {
  const uint64_t count = op.responses() + op.failures();
  const double rate = seconds > 0 ? static_cast<double>(count) / seconds : 0;
  char line[256];
  std::snprintf(line, sizeof line,
                "%-17s %8llu %8.1f %8llu %6llu %6llu %6llu %5llu %5llu %5llu %9.3f %9.3f %9.3f "
                "%9.3f %9.3f\n",
                name, static_cast<unsigned long long>(count), rate,
                static_cast<unsigned long long>(op.status[2]),
                static_cast<unsigned long long>(op.status[3]),
                static_cast<unsigned long long>(op.status[4]),
                static_cast<unsigned long long>(op.status[5]),
                static_cast<unsigned long long>(op.connect_errors),
                static_cast<unsigned long long>(op.timeouts),
                static_cast<unsigned long long>(op.other_errors + op.status[1] + op.status[0]),
                Ms(op.latency.Quantile(0.5)), Ms(op.latency.Quantile(0.9)),
                Ms(op.latency.Quantile(0.99)), Ms(op.latency.Quantile(0.999)),
                Ms(op.latency.max()));
  *out += line;
}

nlohmann::json LatencyJson(const LatencyHistogram& histogram) {
  nlohmann::json latency;
  for (const Percentile& p : kPercentiles) latency[p.json_name] = Ms(histogram.Quantile(p.q));
  latency["max"] = Ms(histogram.max());
  latency["mean"] = histogram.mean() / kNsPerMs;
  return latency;
}

nlohmann::json FiguresJson(const OperationStats& op) {
  return {
      {"count", op.responses() + op.failures()},
      {"status",
       {{"1xx", op.status[1]}, {"2xx", op.status[2]}, {"3xx", op.status[3]},
        {"4xx", op.status[4]}, {"5xx", op.status[5]}, {"other", op.status[0]}}},
      {"errors",
       {{"connect", op.connect_errors}, {"timeout", op.timeouts}, {"other", op.other_errors}}},
      {"latency_ms", LatencyJson(op.latency)},
  };
}

}  // namespace

std::string FormatTextReport(const RunStats& stats, const RunDescription& run,
                             double since_start_s) {
  const double seconds = static_cast<double>(stats.elapsed_ns) / 1e9;
  char head[320];
  if (run.closed_loop) {
    std::snprintf(head, sizeof head, "closed loop, concurrency %d", run.connections);
  } else {
    std::snprintf(head, sizeof head, "open loop, target %.1f/s over %d connections",
                  run.target_rate, run.connections);
  }
  std::string out;
  char line[512];
  if (since_start_s >= 0) {
    std::snprintf(line, sizeof line, "--- at %.1fs (last %.1fs) ", since_start_s, seconds);
  } else {
    std::snprintf(line, sizeof line, "=== summary over %.1fs ", seconds);
  }
  out += line;
  std::snprintf(line, sizeof line,
                "%s: achieved %.1f req/s, started %llu, late starts %llu, unfinished %llu\n", head,
                stats.achieved_rate(), static_cast<unsigned long long>(stats.started),
                static_cast<unsigned long long>(stats.late_starts),
                static_cast<unsigned long long>(stats.unfinished));
  out += line;
  out += "operation            count   rate/s      2xx    3xx    4xx    5xx  conn   tmo other "
         "   p50 ms    p90 ms    p99 ms  p99.9 ms    max ms\n";
  for (size_t i = 0; i < kOperationCount; ++i) {
    const OperationStats& op = stats.operations[i];
    if (op.responses() + op.failures() == 0) continue;
    AppendRow(&out, std::string(OperationName(static_cast<Operation>(i))).c_str(), op, seconds);
  }
  AppendRow(&out, "all", stats.all, seconds);
  if (const int64_t cycle = ClosedLoopCycleNs(stats, run); cycle > 0 && since_start_s < 0) {
    const LatencyHistogram corrected = stats.all.latency.CorrectedForExpectedInterval(cycle);
    std::snprintf(line, sizeof line,
                  "all, corrected for coordinated omission as wrk reports it (+%llu samples): "
                  "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
                  static_cast<unsigned long long>(corrected.count() - stats.all.latency.count()),
                  Ms(corrected.Quantile(0.5)), Ms(corrected.Quantile(0.9)),
                  Ms(corrected.Quantile(0.99)), Ms(corrected.Quantile(0.999)),
                  Ms(corrected.max()));
    out += line;
  }
  return out;
}

int64_t ClosedLoopCycleNs(const RunStats& stats, const RunDescription& run) {
  if (!run.closed_loop || stats.completed() == 0) return 0;
  return stats.elapsed_ns * run.connections / static_cast<int64_t>(stats.completed());
}

nlohmann::json SummaryJson(const RunStats& stats) {
  const double seconds = static_cast<double>(stats.elapsed_ns) / 1e9;
  nlohmann::json summary = FiguresJson(stats.all);
  summary["elapsed_s"] = seconds;
  summary["achieved_rate"] = stats.achieved_rate();
  summary["started"] = stats.started;
  summary["completed"] = stats.completed();
  summary["late_starts"] = stats.late_starts;
  summary["unfinished"] = stats.unfinished;
  nlohmann::json operations = nlohmann::json::object();
  for (size_t i = 0; i < kOperationCount; ++i) {
    const OperationStats& op = stats.operations[i];
    const uint64_t count = op.responses() + op.failures();
    if (count == 0) continue;
    nlohmann::json figures = FiguresJson(op);
    figures["rate"] = seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
    operations[std::string(OperationName(static_cast<Operation>(i)))] = std::move(figures);
  }
  summary["operations"] = std::move(operations);
  return summary;
}

nlohmann::json RunJson(const RunDescription& run, const nlohmann::json& intervals,
                       const RunStats& total) {
  nlohmann::json summary = SummaryJson(total);
  if (const int64_t cycle = ClosedLoopCycleNs(total, run); cycle > 0) {
    summary["latency_ms_corrected"] =
        LatencyJson(total.all.latency.CorrectedForExpectedInterval(cycle));
  }
  return {
      {"target", run.target},
      {"mode", run.closed_loop ? "closed_loop" : "open_loop"},
      {"target_rate", run.closed_loop ? nlohmann::json(nullptr) : nlohmann::json(run.target_rate)},
      {"connections", run.connections},
      {"duration_s", run.duration_s},
      {"mix", run.mix},
      {"zipf", run.zipf},
      {"seed", run.seed},
      {"intervals", intervals},
      {"total", std::move(summary)},
  };
}

}  // namespace crmscope::loadgen
