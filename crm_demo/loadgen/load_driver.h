// Drives the workload against the target with libcurl's multi interface from one thread, in one
// of two modes:
//
// Open loop (the default): request i is scheduled at start + i / rate, whatever the server does,
// and its latency is measured from that scheduled time. A server that stalls for 500 ms cannot
// hide it by slowing the load generator down (what Gil Tene calls coordinated omission): the
// requests scheduled during the stall wait and their latency includes the wait. Requests go out
// over a keep-alive pool of `connections`; one that finds every connection busy at its scheduled
// time waits for one (its latency still counting) and is counted as a late start.
//
// Closed loop: `connections` connections each send the next request as soon as the previous one
// finished, latency measured from the send, as wrk does. This is what saturation benchmarks
// measure and what the open loop exists to correct; it is here to compare with wrk.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crm_demo/loadgen/run_stats.h"
#include "crm_demo/loadgen/workload.h"

namespace crmscope::loadgen {

struct LoadOptions {
  std::string target = "http://127.0.0.1:8080";  // scheme://host:port, the paths are appended
  bool closed_loop = false;
  double rate = 200;         // open loop: requests per second
  int connections = 64;      // open loop: the pool's size; closed loop: the concurrency
  int64_t duration_ns = 60'000'000'000;
  int64_t timeout_ns = 10'000'000'000;  // per request, connecting included
  int64_t report_interval_ns = 5'000'000'000;  // 0: no interval reports
  // Open loop: how long requests still in flight or waiting at the end may take to finish;
  // -1: the request timeout. What has not finished by then counts as unfinished.
  int64_t drain_ns = -1;
  std::vector<std::string> headers;  // "Name: value", sent with every request
};

// Called from the driving thread at each report interval with the figures of that interval.
using IntervalReport = std::function<void(const RunStats& interval, int64_t since_start_ns)>;

class LoadDriver {
 public:
  // Sets up libcurl and the connection pool (connections open lazily, on first use).
  static std::unique_ptr<LoadDriver> Create(const LoadOptions& options, std::string* error);
  ~LoadDriver();
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Runs until the duration has passed (and, in open loop, the last requests drained) or `stop`
  // becomes true (checked at least every 50 ms; setting it from a signal handler is fine).
  // `total` receives the whole run's figures.
  void Run(Workload& workload, const std::atomic<bool>& stop, const IntervalReport& on_interval,
           RunStats* total);

 private:
  struct State;
  explicit LoadDriver(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

int64_t MonotonicNowNs();

}  // namespace crmscope::loadgen
