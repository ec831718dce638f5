// GET /metrics for a CivetWeb service: the Prometheus text exposition format 0.0.4 of one or
// more prometheus-cpp Collectables (a Registry, a ProcessCollector, a service's own collector),
// as prometheus-cpp's Exposer would serve them, but on the service's own CivetWeb context and
// port instead of a second listener.
//
// Collection happens at scrape time, on the scraping request's thread. Collectables are held
// weakly, like prometheus-cpp's Exposer: one that has been destroyed is skipped. Thread-safe.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct mg_connection;

namespace crmscope::instrumentation {

inline constexpr std::string_view kTextExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class MetricsEndpoint {
 public:
  void Register(std::weak_ptr<prometheus::Collectable> collectable);

  // The exposition of every registered collectable, in registration order.
  std::string Serialize() const;

  // Writes a complete 200 response (headers and body) to a CivetWeb connection, from inside a
  // request callback. Returns the status written, for the caller's own accounting.
  int Serve(mg_connection* conn) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
};

// Appends a family of one unlabelled counter or gauge, for collectors that read their values at
// scrape time (process_*, cache statistics) instead of keeping live metric objects.
void AddSingleValueFamily(std::vector<prometheus::MetricFamily>* out, const char* name,
                          const char* help, prometheus::MetricType type, double value);

}  // namespace crmscope::instrumentation
