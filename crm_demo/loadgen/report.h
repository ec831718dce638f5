// The load generator's reports: a text table per interval and for the whole run, and the same
// figures as JSON (--json). The JSON document, written once at the end:
//
//   {
//     "target": "http://127.0.0.1:8080", "mode": "open_loop" | "closed_loop",
//     "target_rate": 200,            // requests/s; null in closed loop
//     "connections": 64,             // the pool (open loop) or the concurrency (closed loop)
//     "duration_s": 60, "mix": "get_customer:50,...", "zipf": 1.1, "seed": 1,
//     "intervals": [ {"t_s": 5.0, <summary>}, ... ],   // t_s: seconds from start to its end
//     "total": {<summary>,
//               // closed loop only: all operations' latencies corrected for coordinated
//               // omission as wrk 4 reports them (LatencyHistogram::CorrectedForExpectedInterval
//               // with e = elapsed * connections / completed), to compare with wrk
//               "latency_ms_corrected": {"p50", "p90", "p99", "p99_9", "max", "mean"}}
//   }
//   <summary> = "elapsed_s", "achieved_rate" (completed/s), "started", "completed",
//     "late_starts", "unfinished", and the fields of <figures> for all operations together, and
//     "operations": {"get_customer": {<figures>, "rate": completed/s}, ...} (operations that ran)
//   <figures> = "count" (completed: responses + failures),
//     "status": {"1xx", "2xx", "3xx", "4xx", "5xx", "other"},
//     "errors": {"connect", "timeout", "other"},
//     "latency_ms": {"p50", "p90", "p99", "p99_9", "max", "mean"}   // of responses, any status
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "crm_demo/loadgen/run_stats.h"

namespace crmscope::loadgen {

struct RunDescription {
  std::string target;
  bool closed_loop = false;
  double target_rate = 0;
  int connections = 0;
  double duration_s = 0;
  std::string mix;
  double zipf = 0;
  uint64_t seed = 0;
};

// `since_start_s` >= 0 marks an interval report, < 0 the final one.
std::string FormatTextReport(const RunStats& stats, const RunDescription& run,
                             double since_start_s);

nlohmann::json SummaryJson(const RunStats& stats);
// The closed loop's mean time between two requests of one connection; 0 in open loop.
int64_t ClosedLoopCycleNs(const RunStats& stats, const RunDescription& run);
nlohmann::json RunJson(const RunDescription& run, const nlohmann::json& intervals,
                       const RunStats& total);

}  // namespace crmscope::loadgen
