// The standard process_* metrics every Prometheus client exposes (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, ...), read from /proc/self at scrape time.
// prometheus-cpp has no collector for them.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace crmscope::api {

// Families for this process; empty where /proc is not readable.
std::vector<prometheus::MetricFamily> CollectProcessMetrics();

}  // namespace crmscope::api
