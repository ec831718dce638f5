// The RED metrics of an HTTP server (Rate, Errors, Duration) plus its saturation, as the
// Prometheus client libraries name them:
//
//   http_requests_total{route,method,code}           counter
//   http_request_duration_seconds{route,method}      histogram, 1 ms .. 10 s by default
//   http_requests_in_flight                          gauge: requests being handled now
//   http_server_worker_threads                       gauge: worker threads the server runs
//   http_server_worker_threads_busy                  gauge: workers holding a connection
//
// `route` is a RouteTable template ("/api/customers/{id}", or "other"), never a raw path.
//
// Busy workers are not in-flight requests: a thread-per-connection server such as CivetWeb
// keeps a worker on a keep-alive connection between its requests, so a server can refuse new
// connections with few requests in flight; busy == total is that saturation.
//
// Hot path: the histogram of every declared (route, method) is resolved when the object is
// built; a (route, method, code) counter is resolved on first use and cached in a slot, so a
// request costs an array index and the metrics' own atomics, with no label map built and no
// allocation. Codes outside a fixed list of common ones are looked up by labels each time.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "exporters/instrumentation/route_table.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace crmscope::instrumentation {

class HttpServerMetrics {
 public:
  // 1 ms .. 10 s: a CRM read answers in milliseconds, a report or a lock wait in seconds.
  static std::vector<double> DefaultDurationBuckets();

  // `routes` must outlive this object.
  HttpServerMetrics(prometheus::Registry& registry, const RouteTable& routes,
                    std::vector<double> duration_buckets = DefaultDurationBuckets());
  ~HttpServerMetrics();
  HttpServerMetrics(const HttpServerMetrics&) = delete;
  HttpServerMetrics& operator=(const HttpServerMetrics&) = delete;

  void RequestStarted();
  // Ends what RequestStarted began: counts the request and observes its duration.
  void RequestFinished(size_t template_id, HttpMethod method, int status, double seconds);

  void WorkerThreadStarted();
  void WorkerThreadStopped();
  void WorkerBusy();  // a worker took a connection
  void WorkerIdle();  // ... and let it go

 private:
  struct Slot;
  prometheus::Counter& RequestCounter(Slot& slot, size_t template_id, HttpMethod method,
                                      int status);
  prometheus::Histogram& DurationHistogram(Slot& slot, size_t template_id, HttpMethod method);

  const RouteTable& routes_;
  const std::vector<double> buckets_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& workers_;
  prometheus::Gauge& workers_busy_;
  std::unique_ptr<Slot[]> slots_;  // [template_id * kNumHttpMethods + method]
};

}  // namespace crmscope::instrumentation
