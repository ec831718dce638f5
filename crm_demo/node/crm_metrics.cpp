#include "crm_demo/node/crm_metrics.h"

#include "exporters/instrumentation/text_exposition.h"
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <string>

namespace crmscope::crm {

namespace {

// From an in-memory cache hit (~10 us, below the first bucket) to a lock wait near
// busy_timeout; 100 us separates a cached read from an indexed query.
const std::vector<double>& FineBuckets() {
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5,     5,      10};
  return buckets;
}

}  // namespace

CrmMetrics::CrmMetrics(prometheus::Registry& registry) {
  auto& durations = prometheus::BuildHistogram()
                        .Name("crm_db_query_duration_seconds")
                        .Help("Time to run one named SQL statement to completion.")
                        .Register(registry);
  auto& rows = prometheus::BuildCounter()
                   .Name("crm_db_rows_scanned_total")
                   .Help(
                       "Rows examined by a named statement: SQLite full-scan steps plus rows "
                       "returned.")
                   .Register(registry);
  auto& steps = prometheus::BuildCounter()
                    .Name("crm_db_vm_steps_total")
                    .Help("SQLite virtual machine steps run by a named statement.")
                    .Register(registry);
  auto& errors = prometheus::BuildCounter()
                     .Name("crm_db_query_errors_total")
                     .Help("Named statements that failed, such as a lock wait past busy_timeout.")
                     .Register(registry);
  for (size_t i = 0; i < kNumQueries; ++i) {
    prometheus::Labels labels{{"query", std::string(QueryName(static_cast<Query>(i)))}};
    queries_[i] = {&durations.Add(labels, FineBuckets()), &rows.Add(labels), &steps.Add(labels),
                   &errors.Add(labels)};
  }
  auto& stages = prometheus::BuildHistogram()
                     .Name("crm_stage_duration_seconds")
                     .Help(
                         "Time one request spent in a stage: cache, db, or the handler's own "
                         "work (the rest of the request).")
                     .Register(registry);
  const char* names[] = {"cache", "db", "handler"};
  for (size_t i = 0; i < stages_.size(); ++i) {
    stages_[i] = &stages.Add({{"stage", names[i]}}, FineBuckets());
  }
}

void CrmMetrics::ObserveQuery(Query query, double seconds, uint64_t rows_scanned,
                              uint64_t vm_steps) {
  const PerQuery& q = queries_[static_cast<size_t>(query)];
  q.duration->Observe(seconds);
  if (rows_scanned) q.rows_scanned->Increment(static_cast<double>(rows_scanned));
  if (vm_steps) q.vm_steps->Increment(static_cast<double>(vm_steps));
}

void CrmMetrics::CountQueryError(Query query) {
  queries_[static_cast<size_t>(query)].errors->Increment();
}

void CrmMetrics::ObserveStage(Stage stage, double seconds) {
  stages_[static_cast<size_t>(stage)]->Observe(seconds);
}

std::vector<prometheus::MetricFamily> CacheCollector::Collect() const {
  using prometheus::MetricType;
  CacheStats stats;
  if (cache_) stats = cache_->Stats();
  double bypassed = static_cast<double>(bypassed_->load(std::memory_order_relaxed));
  std::vector<prometheus::MetricFamily> out;
  instrumentation::AddSingleValueFamily(&out, "crm_cache_hits_total", "Customer reads answered from the cache.",
            MetricType::Counter, static_cast<double>(stats.hits));
  instrumentation::AddSingleValueFamily(&out, "crm_cache_misses_total",
            "Customer reads the cache could not answer, bypassed lookups included.",
            MetricType::Counter, static_cast<double>(stats.misses) + bypassed);
  instrumentation::AddSingleValueFamily(&out, "crm_cache_evictions_total", "Entries evicted to stay within capacity.",
            MetricType::Counter, static_cast<double>(stats.evictions));
  instrumentation::AddSingleValueFamily(&out, "crm_cache_entries", "Entries in the cache now.", MetricType::Gauge,
            static_cast<double>(stats.size));
  instrumentation::AddSingleValueFamily(&out, "crm_cache_max_entries", "Entries the cache may hold.", MetricType::Gauge,
            static_cast<double>(stats.capacity));
  return out;
}

}  // namespace crmscope::crm
