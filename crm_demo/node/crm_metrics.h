// crm-node's own metrics, beside the generic HTTP and process ones from exporters/instrumentation:
//
//   crm_db_query_duration_seconds{query}   histogram, 100 us .. 10 s
//   crm_db_rows_scanned_total{query}       rows examined (see crm_queries.h for the definition)
//   crm_db_vm_steps_total{query}           SQLite bytecode steps
//   crm_db_query_errors_total{query}       statements that failed (SQLITE_BUSY after busy_timeout)
//   crm_stage_duration_seconds{stage}      stage = cache | db | handler, per request; cache and db
//                                          observed only by requests that used them, handler =
//                                          the request's time minus both, so stages add up
//   crm_cache_hits_total, crm_cache_misses_total, crm_cache_evictions_total,
//   crm_cache_entries, crm_cache_max_entries     from the cache's own counters at scrape time
//
// Every handle is resolved in the constructor and indexed by enum on the request path. Faults
// are deliberately absent, down to their names (hence crm_cache_max_entries, not
// ..._capacity_...): an analysis must find them from these symptoms alone.
#pragma once

#include <prometheus/collectable.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/crm_queries.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
}  // namespace prometheus

namespace crmscope::crm {

enum class Stage : uint8_t { kCache, kDb, kHandler };

class CrmMetrics : public QueryObserver {
 public:
  explicit CrmMetrics(prometheus::Registry& registry);

  void ObserveQuery(Query query, double seconds, uint64_t rows_scanned, uint64_t vm_steps) override;
  void CountQueryError(Query query) override;
  void ObserveStage(Stage stage, double seconds);

 private:
  struct PerQuery {
    prometheus::Histogram* duration;
    prometheus::Counter* rows_scanned;
    prometheus::Counter* vm_steps;
    prometheus::Counter* errors;
  };
  std::array<PerQuery, kNumQueries> queries_{};
  std::array<prometheus::Histogram*, 3> stages_{};
};

// The cache's counters as Prometheus families. A lookup the node made without the cache (no
// cache configured, or the cache bypassed) is a miss: the request went to the database, and the
// hit ratio must say so.
class CacheCollector : public prometheus::Collectable {
 public:
  // `cache` may be null (--cache=off); both must outlive the collector's scrapes.
  CacheCollector(const CustomerCache* cache, const std::atomic<uint64_t>* bypassed_lookups)
      : cache_(cache), bypassed_(bypassed_lookups) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const CustomerCache* cache_;
  const std::atomic<uint64_t>* bypassed_;
};

}  // namespace crmscope::crm
