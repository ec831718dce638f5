// The collector's own metrics and GET /metrics. Counters are updated on the request path; the
// storage gauges (series, head chunks, database size) are read from Storage::Stats() when scraped,
// so they cost nothing between scrapes. The storage registers its own metrics into the same
// registry, and one scrape shows both, plus the process_* metrics.
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include "exporters/http/http_server.h"
#include "collector/storage/storage.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace crmscope::api {

// The HTTP layer lives in exporters/http, shared with the agent.
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

class ApiMetrics {
 public:
  explicit ApiMetrics(std::shared_ptr<prometheus::Registry> registry);
  ApiMetrics(const ApiMetrics&) = delete;
  ApiMetrics& operator=(const ApiMetrics&) = delete;

  // One HTTP request answered; `handler` is the route pattern ("/api/v1/write").
  void ObserveRequest(std::string_view handler, int status, double seconds);
  // What one remote-write request did to its samples (all of them: the receiver's own rejections
  // are merged in before).
  void CountIngest(const storage::AppendStats& stats);

  // GET /metrics in the text exposition format. `storage` may be null (not open yet).
  HttpResponse Serve(const storage::Storage* storage);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* accepted_;
  prometheus::Counter* duplicates_;
  std::array<prometheus::Counter*, storage::kNumRejectReasons> rejected_{};
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Gauge* series_;
  prometheus::Gauge* active_series_;
  prometheus::Gauge* head_chunks_;
  prometheus::Gauge* chunks_;
  prometheus::Gauge* db_bytes_;
};

}  // namespace crmscope::api
