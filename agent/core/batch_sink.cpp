#include "agent/core/batch_sink.h"

namespace crmscope::agent {

remote_write::MetricType ToRemoteWriteType(MetricKind kind) {
  using remote_write::MetricType;
  switch (kind) {
    case MetricKind::kCounter:
      return MetricType::kCounter;
    case MetricKind::kGauge:
      return MetricType::kGauge;
    case MetricKind::kHistogram:
      return MetricType::kHistogram;
    case MetricKind::kSummary:
      return MetricType::kSummary;
    case MetricKind::kInfo:
      return MetricType::kInfo;
    case MetricKind::kStateset:
      return MetricType::kStateset;
    case MetricKind::kUnknown:
      break;
  }
  return MetricType::kUnknown;
}

void BatchSink::AddAt(const Labels& labels, TimestampMs t, double value) {
  // A source emits each series once per collection, so consecutive samples of one series only
  // happen with explicit timestamps; they share the series entry.
  if (!batch_.series.empty() && batch_.series.back().labels == labels) {
    batch_.series.back().samples.push_back({t, value});
  } else {
    batch_.series.push_back({labels, {{t, value}}});
  }
  ++samples_;
}

void BatchSink::Describe(std::string_view family, MetricKind kind, std::string_view help,
                         std::string_view unit) {
  auto it = catalog_->families.find(family);
  if (it == catalog_->families.end()) {
    it = catalog_->families.emplace(std::string(family), FamilyCatalog::Family{}).first;
    described_new_family_ = true;
  } else if (it->second.kind == kind && it->second.help == help && it->second.unit == unit) {
    return;
  } else {
    described_new_family_ = true;
  }
  it->second = {kind, std::string(help), std::string(unit)};
}

remote_write::WriteRequest BatchSink::Take() {
  bool due = catalog_->metadata_sent_at < 0 || described_new_family_ ||
             now_ - catalog_->metadata_sent_at >= kMetadataIntervalMs;
  if (due && !catalog_->families.empty()) {
    for (const auto& [name, family] : catalog_->families) {
      batch_.metadata.push_back({ToRemoteWriteType(family.kind), name, family.help, family.unit});
    }
    catalog_->metadata_sent_at = now_;
  }
  remote_write::WriteRequest out = std::move(batch_);
  batch_ = {};
  samples_ = 0;
  described_new_family_ = false;
  return out;
}

}  // namespace crmscope::agent
