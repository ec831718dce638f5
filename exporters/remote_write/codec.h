// Prometheus remote write 1.0 wire format: a prometheus.WriteRequest protobuf message,
// compressed with snappy's block format, sent as
//   Content-Type: application/x-protobuf
//   Content-Encoding: snappy
//   X-Prometheus-Remote-Write-Version: 0.1.0
// The agent's sender encodes with it; the collector's receiver decodes with it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::remote_write {

inline constexpr std::string_view kContentType = "application/x-protobuf";
inline constexpr std::string_view kContentEncoding = "snappy";
inline constexpr std::string_view kVersionHeader = "X-Prometheus-Remote-Write-Version";
inline constexpr std::string_view kVersion = "0.1.0";

// prometheus.MetricMetadata.MetricType, with the protobuf's numbering.
enum class MetricType : int {
  kUnknown = 0, kCounter = 1, kGauge = 2, kHistogram = 3, kGaugeHistogram = 4,
  kSummary = 5, kInfo = 6, kStateset = 7,
};
std::string_view MetricTypeName(MetricType type);  // "counter", "gauge", ... as Prometheus's API

struct MetricMetadata {
  MetricType type = MetricType::kUnknown;
  std::string family;  // metric_family_name
  std::string help;
  std::string unit;
};

// An owning write request, for building one to send.
struct TimeSeries {
  Labels labels;
  std::vector<Sample> samples;
};
struct WriteRequest {
  std::vector<TimeSeries> series;
  std::vector<MetricMetadata> metadata;
};

// Serialises and snappy-compresses a request: the body of a remote-write POST.
std::string Encode(const WriteRequest& request);

// A decoded request. Label strings are views into memory the object owns, so decoding does not
// allocate per label; reuse one object across requests to reuse its buffers too.
class DecodedRequest {
 public:
  struct Series {
    uint32_t label_begin, label_end;    // indices into labels()
    uint32_t sample_begin, sample_end;  // indices into samples()
  };

  DecodedRequest();
  ~DecodedRequest();
  DecodedRequest(const DecodedRequest&) = delete;
  DecodedRequest& operator=(const DecodedRequest&) = delete;

  const std::vector<Series>& series() const { return series_; }
  const std::vector<LabelView>& labels() const { return labels_; }
  const std::vector<Sample>& samples() const { return samples_; }
  const std::vector<MetricMetadata>& metadata() const { return metadata_; }
  size_t uncompressed_bytes() const { return uncompressed_bytes_; }

 private:
  friend bool Decode(std::string_view, size_t, DecodedRequest*, std::string*);
  struct Storage;
  std::unique_ptr<Storage> storage_;  // owns the bytes the label views point into
  std::vector<Series> series_;
  std::vector<LabelView> labels_;
  std::vector<Sample> samples_;
  std::vector<MetricMetadata> metadata_;
  size_t uncompressed_bytes_ = 0;
};

// Decodes a snappy-compressed WriteRequest. Fails, with a one-line reason in *error, on a body
// that is not valid snappy, whose uncompressed size exceeds max_uncompressed_bytes, or that is not
// a valid WriteRequest protobuf. Labels are returned as sent (not sorted, not validated).
bool Decode(std::string_view body, size_t max_uncompressed_bytes, DecodedRequest* out,
            std::string* error);

}  // namespace crmscope::remote_write
