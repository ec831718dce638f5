// What a load run measured: per operation and over all operations, the latency histogram, the
// responses by status class and the requests that got no response, plus the run's own counters
// (late starts, unfinished requests). The driver fills one RunStats per report interval and one
// for the whole run; the text and JSON reports read them.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "crm_demo/loadgen/latency_histogram.h"
#include "crm_demo/loadgen/workload.h"

namespace crmscope::loadgen {

enum class FailureKind : uint8_t {
  kConnect,  // connection refused or reset before a response: the server is not there
  kTimeout,  // no complete response within --timeout
  kOther,    // anything else libcurl reports (malformed response, ...)
};

struct OperationStats {
  LatencyHistogram latency;           // of responses of any status, from the scheduled time
  std::array<uint64_t, 6> status{};   // [1..5]: 1xx..5xx; [0]: anything outside 100..599
  uint64_t connect_errors = 0;
  uint64_t timeouts = 0;
  uint64_t other_errors = 0;

  uint64_t responses() const { return latency.count(); }
  uint64_t failures() const { return connect_errors + timeouts + other_errors; }
  void Merge(const OperationStats& other);
  void Reset();
};

struct RunStats {
  std::array<OperationStats, kOperationCount> operations;
  OperationStats all;
  uint64_t started = 0;
  // Open loop: requests that found every connection busy at their scheduled time and waited
  // (their latency includes the wait). Many late starts mean --connections is too small or
  // the server is saturated.
  uint64_t late_starts = 0;
  // Requests scheduled or in flight when the run ended (SIGINT, the drain deadline, or the end
  // of a closed-loop run, where wrk also drops them). Not in the histograms.
  uint64_t unfinished = 0;
  int64_t elapsed_ns = 0;  // the wall time these figures cover

  void RecordResponse(Operation op, long status, int64_t latency_ns);
  void RecordFailure(Operation op, FailureKind kind);
  void Merge(const RunStats& other);
  void Reset();

  uint64_t completed() const { return all.responses() + all.failures(); }
  double achieved_rate() const;  // completed requests per second of elapsed_ns
};

}  // namespace crmscope::loadgen
