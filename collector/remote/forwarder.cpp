#include "collector/remote/forwarder.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "collector/storage/storage.h"
#include "common/log.h"
#include "exporters/remote_write/codec.h"

namespace crmscope::collector {

namespace {

constexpr std::string_view kMetricPrefix = "crmscope_collector_forward";

// Reasons for which the storage refuses a series' samples whatever their timestamps; the other
// reasons (out of order, duplicate timestamp) are per sample, and NewestForwarded leaves those out.
bool RefusesSeries(storage::RejectReason reason) {
  return reason == storage::RejectReason::kInvalidLabels ||
         reason == storage::RejectReason::kSeriesLimit || reason == storage::RejectReason::kTooOld;
}

// The label set as the storage keys it: empty values dropped (Prometheus treats them as absent),
// sorted by name.
void CanonicalLabels(const LabelView* labels, size_t n, Labels* out) {
  out->clear();
  for (size_t i = 0; i < n; ++i) {
    if (!labels[i].value.empty()) out->push_back({std::string(labels[i].name), std::string(labels[i].value)});
  }
  SortLabels(*out);
}

}  // namespace

std::unique_ptr<Forwarder> Forwarder::Open(std::vector<remote_write::QueueSenderConfig> configs,
                                           const std::string& storage_path,
                                           prometheus::Registry* registry, std::string* error) {
  std::unique_ptr<Forwarder> forwarder(new Forwarder());
  for (remote_write::QueueSenderConfig& config : configs) {
    if (config.queue_dir.empty()) {
      config.queue_dir = (std::filesystem::path(storage_path) / "forward" / config.name).string();
    }
    auto sender = remote_write::QueueSender::Open(config, registry, kMetricPrefix, error);
    if (!sender) return nullptr;
    log::Info("Forwarding ingested samples",
              {{"remote_name", sender->config().name}, {"url", config.url},
               {"queue", config.queue_dir}});
    forwarder->senders_.push_back(std::move(sender));
  }
  if (registry) {
    forwarder->skipped_ =
        &prometheus::BuildCounter()
             .Name(std::string(kMetricPrefix) + "_samples_skipped_total")
             .Help("Samples the collector accepted but did not forward: resends of samples already "
                   "forwarded, or older than the newest forwarded sample of their series.")
             .Register(*registry)
             .Add({});
  }
  return forwarder;
}

Forwarder::~Forwarder() { Close(std::chrono::milliseconds(0)); }

void Forwarder::Ingested(const remote_write::DecodedRequest& request,
                         const std::vector<uint32_t>& series, const storage::AppendStats& stats) {
  if (senders_.empty()) return;
  std::unordered_set<std::string> refused;
  for (const auto& rejection : stats.rejections) {
    if (RefusesSeries(rejection.reason)) refused.insert(rejection.series);
  }
  // Reused per HTTP thread: after warm-up, building the batch allocates little.
  thread_local remote_write::WriteRequest batch;
  thread_local std::vector<Sample> samples;
  batch.series.clear();
  batch.metadata = request.metadata();
  size_t skipped = 0;
  for (uint32_t index : series) {
    const auto& s = request.series()[index];
    remote_write::TimeSeries ts;
    CanonicalLabels(request.labels().data() + s.label_begin, s.label_end - s.label_begin, &ts.labels);
    if (!refused.empty() && refused.count(LabelsToString(ts.labels))) continue;
    samples.assign(request.samples().begin() + s.sample_begin, request.samples().begin() + s.sample_end);
    size_t kept = newest_.KeepNewer(HashLabels(ts.labels), samples.data(), samples.size());
    skipped += samples.size() - kept;
    if (kept == 0) continue;
    ts.samples.assign(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(kept));
    batch.series.push_back(std::move(ts));
  }
  if (skipped_ && skipped > 0) skipped_->Increment(static_cast<double>(skipped));
  for (auto& sender : senders_) {
    std::string error;
    if (!sender->Append(batch, &error)) {
      log::Error("Cannot queue ingested samples for forwarding",
                 {{"remote_name", sender->config().name}, {"err", error}});
    }
  }
}

void Forwarder::Close(std::chrono::milliseconds flush_deadline) {
  auto deadline = std::chrono::steady_clock::now() + flush_deadline;
  for (auto& sender : senders_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    sender->Close(std::max(left, std::chrono::milliseconds(0)));
  }
}

}  // namespace crmscope::collector
