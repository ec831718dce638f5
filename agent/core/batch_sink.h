// The SampleSink one collection writes into: it gathers the samples of a source's collection
// into one remote-write batch, with the metadata of the families the source described.
//
// Metadata travels with the first batch of a source and then once a minute, as Prometheus's
// remote write sends it (its metadata_config.send_interval defaults to 1m): a receiver that
// restarts learns types and help again within a minute.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "agent/sources/source.h"
#include "exporters/remote_write/codec.h"

namespace crmscope::agent {

// What a source described, kept between its collections.
struct FamilyCatalog {
  struct Family {
    MetricKind kind = MetricKind::kUnknown;
    std::string help, unit;
  };
  std::map<std::string, Family, std::less<>> families;
  TimestampMs metadata_sent_at = -1;
};

class BatchSink : public SampleSink {
 public:
  static constexpr TimestampMs kMetadataIntervalMs = 60'000;

  BatchSink(TimestampMs now, FamilyCatalog* catalog) : now_(now), catalog_(catalog) {}

  void Add(const Labels& labels, double value) override { AddAt(labels, now_, value); }
  void AddAt(const Labels& labels, TimestampMs t, double value) override;
  void Describe(std::string_view family, MetricKind kind, std::string_view help,
                std::string_view unit) override;

  size_t samples() const { return samples_; }
  // The batch, with metadata when it is due. Leaves the sink empty.
  remote_write::WriteRequest Take();

 private:
  TimestampMs now_;
  FamilyCatalog* catalog_;
  remote_write::WriteRequest batch_;
  size_t samples_ = 0;
  bool described_new_family_ = false;
};

remote_write::MetricType ToRemoteWriteType(MetricKind kind);

}  // namespace crmscope::agent
