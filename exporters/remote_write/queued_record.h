// A record of the sender's queue, read back and indexed for sending without decoding it into
// messages: each series keeps its `labels` fields as the bytes they are on the wire, which the
// shards copy into their batches verbatim. A record costs its uncompressed size plus ~40 bytes per
// series and three allocations however many series it holds. Decoding into protobuf messages
// cost ~700 bytes and a dozen allocations per single-sample series, and an agent holds up to
// max_shards × capacity samples in flight: that was most of its heap and half of its CPU.
// Internal to the sender.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::remote_write {

struct QueuedRecord {
  struct Series {
    std::string_view label_fields;  // the TimeSeries' `labels` fields: tag, length, Label, ...
    uint64_t hash = 0;              // HashLabels() of the labels: which shard sends the series
    uint32_t sample_begin = 0, sample_end = 0;  // indices into samples
  };
  uint64_t seq = 0;  // position in reading order, for acknowledgement
  std::string wire;  // the uncompressed WriteRequest the views point into
  std::vector<Series> series;
  std::vector<Sample> samples;
  std::vector<std::string_view> metadata;  // each `metadata` field: tag, length, MetricMetadata
};

// Uncompresses a queue record (a snappy-compressed WriteRequest, as Encode() makes them) and
// indexes it. Fails, with a one-line reason, on damage, on a record over `max_uncompressed_bytes`,
// and on a series whose label fields are not contiguous (Encode() never writes such a series).
// Exemplars and native histograms are not carried: the records' writers never attach them.
bool IndexRecord(std::string_view compressed, size_t max_uncompressed_bytes, QueuedRecord* out,
                 std::string* error);

// Appends a WriteRequest `timeseries` field holding `label_fields` and `samples` to `wire`.
void AppendSeriesField(std::string_view label_fields, const Sample* samples, size_t n,
                       std::string* wire);

}  // namespace crmscope::remote_write
