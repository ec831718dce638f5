// The table the demo prints every few seconds: one row per node and one for the proxy.
#pragma once

#include <string>
#include <vector>

namespace crmscope::launcher {

struct TableRow {
  std::string name;
  double requests_per_s = 0;
  double error_pct = 0;                       // 5xx share of the requests, in %
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // NaN without requests
  double availability_pct = 0;  // share of /healthz probes answered 200, in %; NaN without probes
};

// `heading` goes on the first line (elapsed time, active faults). NaN prints as "-".
std::string FormatLiveTable(const std::string& heading, const std::vector<TableRow>& rows);

}  // namespace crmscope::launcher
