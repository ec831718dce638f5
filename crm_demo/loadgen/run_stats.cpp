#include "crm_demo/loadgen/run_stats.h"

namespace crmscope::loadgen {

void OperationStats::Merge(const OperationStats& other) {
  latency.Merge(other.latency);
  for (size_t i = 0; i < status.size(); ++i) status[i] += other.status[i];
  connect_errors += other.connect_errors;
  timeouts += other.timeouts;
  other_errors += other.other_errors;
}

void OperationStats::Reset() {
  latency.Reset();
  status.fill(0);
  connect_errors = timeouts = other_errors = 0;
}

void RunStats::RecordResponse(Operation op, long status, int64_t latency_ns) {
  const size_t status_class = status >= 100 && status < 600 ? static_cast<size_t>(status / 100) : 0;
  for (OperationStats* stats : {&operations[static_cast<size_t>(op)], &all}) {
    stats->latency.Record(latency_ns);
    ++stats->status[status_class];
  }
}

void RunStats::RecordFailure(Operation op, FailureKind kind) {
  for (OperationStats* stats : {&operations[static_cast<size_t>(op)], &all}) {
    switch (kind) {
      case FailureKind::kConnect: ++stats->connect_errors; break;
      case FailureKind::kTimeout: ++stats->timeouts; break;
      case FailureKind::kOther: ++stats->other_errors; break;
    }
  }
}

void RunStats::Merge(const RunStats& other) {
  for (size_t i = 0; i < operations.size(); ++i) operations[i].Merge(other.operations[i]);
  all.Merge(other.all);
  started += other.started;
  late_starts += other.late_starts;
  unfinished += other.unfinished;
  elapsed_ns += other.elapsed_ns;
}

void RunStats::Reset() {
  for (OperationStats& op : operations) op.Reset();
  all.Reset();
  started = late_starts = unfinished = 0;
  elapsed_ns = 0;
}

double RunStats::achieved_rate() const {
  return elapsed_ns > 0 ? static_cast<double>(completed()) * 1e9 / static_cast<double>(elapsed_ns)
                        : 0.0;
}

}  // namespace crmscope::loadgen
