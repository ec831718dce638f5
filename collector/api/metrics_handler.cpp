#include "collector/api/metrics_handler.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "exporters/instrumentation/process_collector.h"

namespace crmscope::api {

namespace {

prometheus::Gauge* StorageGauge(prometheus::Registry& registry, const std::string& name,
                                const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

// Go client's default buckets: remote-write batches take milliseconds, label queries up to seconds.
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

}  // namespace

ApiMetrics::ApiMetrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)) {
  prometheus::Registry& r = *registry_;
  auto& samples = prometheus::BuildCounter()
                      .Name("crmscope_ingest_samples_total")
                      .Help(
                          "Samples received by remote write and stored; result=\"duplicate\" "
                          "counts identical resends, stored once.")
                      .Register(r);
  accepted_ = &samples.Add({{"result", "accepted"}});
  duplicates_ = &samples.Add({{"result", "duplicate"}});
  auto& rejected = prometheus::BuildCounter()
                       .Name("crmscope_ingest_samples_rejected_total")
                       .Help("Samples received by remote write and not stored, by reason.")
                       .Register(r);
  for (int i = 0; i < storage::kNumRejectReasons; ++i) {
    std::string reason(storage::RejectReasonName(static_cast<storage::RejectReason>(i)));
    rejected_[i] = &rejected.Add({{"reason", reason}});
  }
  requests_ = &prometheus::BuildCounter()
                   .Name("crmscope_http_requests_total")
                   .Help("HTTP requests answered, by route and status code.")
                   .Register(r);
  durations_ = &prometheus::BuildHistogram()
                    .Name("crmscope_http_request_duration_seconds")
                    .Help("Time from reading a request to handing back its answer, by route.")
                    .Register(r);
  series_ = StorageGauge(r, "crmscope_storage_series", "Series known to the index.");
  active_series_ =
      StorageGauge(r, "crmscope_storage_active_series", "Series with an open head chunk.");
  head_chunks_ = StorageGauge(r, "crmscope_storage_head_chunks", "Chunks open in the head.");
  chunks_ = StorageGauge(r, "crmscope_storage_chunks", "Chunks stored in SQLite.");
  db_bytes_ = StorageGauge(r, "crmscope_storage_db_size_bytes",
                           "Size of the SQLite database files on disk.");
}

void ApiMetrics::ObserveRequest(std::string_view handler, int status, double seconds) {
  std::string handler_label(handler);
  requests_->Add({{"handler", handler_label}, {"code", std::to_string(status)}}).Increment();
  durations_->Add({{"handler", handler_label}}, DurationBuckets()).Observe(seconds);
}

void ApiMetrics::CountIngest(const storage::AppendStats& stats) {
  accepted_->Increment(static_cast<double>(stats.accepted));
  duplicates_->Increment(static_cast<double>(stats.duplicates));
  for (int i = 0; i < storage::kNumRejectReasons; ++i) {
    if (stats.rejected[i] > 0) rejected_[i]->Increment(static_cast<double>(stats.rejected[i]));
  }
}

HttpResponse ApiMetrics::Serve(const storage::Storage* storage) {
  if (storage) {
    storage::StorageStats stats = storage->Stats();
    series_->Set(static_cast<double>(stats.series));
    active_series_->Set(static_cast<double>(stats.active_series));
    head_chunks_->Set(static_cast<double>(stats.head_chunks));
    chunks_->Set(static_cast<double>(stats.chunks));
    db_bytes_->Set(static_cast<double>(stats.db_bytes));
  }
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  static const instrumentation::ProcessCollector process;
  for (auto& family : process.Collect()) families.push_back(std::move(family));
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = prometheus::TextSerializer().Serialize(families);
  return response;
}

}  // namespace crmscope::api
