// Where one request's time went, for crm_stage_duration_seconds and the Server-Timing header:
// the cache and the database are measured around each call; the handler stage is the rest.
#pragma once

#include <chrono>
#include <cstdint>

namespace crmscope::crm {

using SteadyClock = std::chrono::steady_clock;

struct RequestStages {
  // False with --metrics=off: nothing reads a clock, so the off switch measures the cost of
  // every timing call as well as of the metrics.
  bool timed = true;
  bool cache_used = false;
  bool db_used = false;
  int64_t cache_ns = 0;
  int64_t db_ns = 0;
};

// Adds the time from construction to destruction to one stage counter, when timing is on.
class StageTimer {
 public:
  StageTimer(bool timed, int64_t* total_ns) : total_ns_(timed ? total_ns : nullptr) {
    if (total_ns_) start_ = SteadyClock::now();
  }
  ~StageTimer() {
    if (total_ns_) {
      *total_ns_ +=
          std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start_).count();
    }
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  int64_t* total_ns_;
  SteadyClock::time_point start_{};
};

}  // namespace crmscope::crm
