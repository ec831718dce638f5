#include "crm_demo/launcher/live_table.h"

#include <cmath>
#include <cstdio>

namespace crmscope::launcher {

namespace {

std::string Cell(double value, const char* format, int width) {
  char buf[32];
  if (std::isnan(value)) {
    std::snprintf(buf, sizeof buf, "%*s", width, "-");
  } else {
    std::snprintf(buf, sizeof buf, format, width, value);
  }
  return buf;
}

}  // namespace

std::string FormatLiveTable(const std::string& heading, const std::vector<TableRow>& rows) {
  std::string out = heading + "\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-8s %9s %7s %9s %9s %9s %8s\n", "", "req/s", "err%",
                "p50 ms", "p95 ms", "p99 ms", "avail%");
  out += line;
  for (const TableRow& row : rows) {
    out += "  ";
    std::snprintf(line, sizeof line, "%-8s", row.name.c_str());
    out += line;
    out += " " + Cell(row.requests_per_s, "%*.1f", 9);
    out += " " + Cell(row.error_pct, "%*.2f", 7);
    out += " " + Cell(row.p50_ms, "%*.1f", 9);
    out += " " + Cell(row.p95_ms, "%*.1f", 9);
    out += " " + Cell(row.p99_ms, "%*.1f", 9);
    out += " " + Cell(row.availability_pct, "%*.1f", 8);
    out += "\n";
  }
  return out;
}

}  // namespace crmscope::launcher
