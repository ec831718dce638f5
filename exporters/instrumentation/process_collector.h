// The process_* metrics every Prometheus client library exposes, with the Go client's names and
// meanings, so dashboards and alerts written for any Prometheus-instrumented service work here:
//
//   process_cpu_seconds_total       user + system CPU time
//   process_resident_memory_bytes   RSS
//   process_virtual_memory_bytes    virtual memory size
//   process_open_fds                open file descriptors
//   process_max_fds                 the soft RLIMIT_NOFILE
//   process_threads                 OS threads
//   process_start_time_seconds      start time, Unix seconds
//
// prometheus-cpp has no such collector. This one reads /proc/self when scraped, so it costs
// nothing between scrapes. Register it beside a Registry (see text_exposition.h). Where /proc
// cannot be read (not Linux, hardened sandbox) the affected families are left out rather than
// reported as zero. Thread-safe.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace crmscope::instrumentation {

class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // Fixed for the process's life, so read once.
  double start_time_seconds_ = 0;
  bool start_time_known_ = false;
};

}  // namespace crmscope::instrumentation
