#include "exporters/instrumentation/http_server_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>

namespace crmscope::instrumentation {

namespace {

// The status codes a CRM service answers with in practice; each gets a cached counter slot.
constexpr std::array<int, 21> kCommonCodes = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404,
                                              405, 408, 409, 413, 422, 429, 500, 502, 503, 504};

int CodeSlot(int status) {
  for (size_t i = 0; i < kCommonCodes.size(); ++i) {
    if (kCommonCodes[i] == status) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

struct HttpServerMetrics::Slot {
  std::atomic<prometheus::Histogram*> duration{nullptr};
  std::array<std::atomic<prometheus::Counter*>, kCommonCodes.size()> requests{};
};

std::vector<double> HttpServerMetrics::DefaultDurationBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

HttpServerMetrics::HttpServerMetrics(prometheus::Registry& registry, const RouteTable& routes,
                                     std::vector<double> duration_buckets)
    : routes_(routes),
      buckets_(std::move(duration_buckets)),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests answered, by route template, method and status code.")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("http_request_duration_seconds")
                     .Help("Time from a request's arrival to its response being written.")
                     .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("http_requests_in_flight")
                     .Help("HTTP requests being handled now.")
                     .Register(registry)
                     .Add({})),
      workers_(prometheus::BuildGauge()
                   .Name("http_server_worker_threads")
                   .Help("Worker threads the HTTP server runs.")
                   .Register(registry)
                   .Add({})),
      workers_busy_(prometheus::BuildGauge()
                        .Name("http_server_worker_threads_busy")
                        .Help("Worker threads holding a client connection, idle keep-alive "
                              "connections included.")
                        .Register(registry)
                        .Add({})),
      slots_(new Slot[routes.num_templates() * kNumHttpMethods]) {
  // Declared routes show a zero-count histogram from the first scrape, so rate() works at once.
  for (size_t r = 0; r < routes_.routes().size(); ++r) {
    size_t id = routes_.template_of(r);
    HttpMethod method = routes_.routes()[r].method;
    DurationHistogram(slots_[id * kNumHttpMethods + static_cast<size_t>(method)], id, method);
  }
}

HttpServerMetrics::~HttpServerMetrics() = default;

prometheus::Counter& HttpServerMetrics::RequestCounter(Slot& slot, size_t template_id,
                                                       HttpMethod method, int status) {
  int code_slot = CodeSlot(status);
  if (code_slot >= 0) {
    if (prometheus::Counter* cached = slot.requests[code_slot].load(std::memory_order_acquire)) {
      return *cached;
    }
  }
  // Family::Add returns the existing counter for equal labels, so racing threads agree.
  prometheus::Counter& counter =
      requests_.Add({{"route", std::string(routes_.template_name(template_id))},
                     {"method", std::string(HttpMethodName(method))},
                     {"code", std::to_string(status)}});
  if (code_slot >= 0) slot.requests[code_slot].store(&counter, std::memory_order_release);
  return counter;
}

prometheus::Histogram& HttpServerMetrics::DurationHistogram(Slot& slot, size_t template_id,
                                                            HttpMethod method) {
  if (prometheus::Histogram* cached = slot.duration.load(std::memory_order_acquire)) {
    return *cached;
  }
  prometheus::Histogram& histogram =
      durations_.Add({{"route", std::string(routes_.template_name(template_id))},
                      {"method", std::string(HttpMethodName(method))}},
                     buckets_);
  slot.duration.store(&histogram, std::memory_order_release);
  return histogram;
}

void HttpServerMetrics::RequestStarted() { in_flight_.Increment(); }

void HttpServerMetrics::RequestFinished(size_t template_id, HttpMethod method, int status,
                                        double seconds) {
  if (template_id >= routes_.num_templates()) template_id = routes_.other_template();
  Slot& slot = slots_[template_id * kNumHttpMethods + static_cast<size_t>(method)];
  RequestCounter(slot, template_id, method, status).Increment();
  DurationHistogram(slot, template_id, method).Observe(seconds);
  in_flight_.Decrement();
}

void HttpServerMetrics::WorkerThreadStarted() { workers_.Increment(); }
void HttpServerMetrics::WorkerThreadStopped() { workers_.Decrement(); }
void HttpServerMetrics::WorkerBusy() { workers_busy_.Increment(); }
void HttpServerMetrics::WorkerIdle() { workers_busy_.Decrement(); }

}  // namespace crmscope::instrumentation
