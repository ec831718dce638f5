#include "exporters/remote_write/codec.h"

#include <snappy.h>

#include <climits>

#include "exporters/remote_write/prometheus_remote.pb.h"

namespace crmscope::remote_write {

// Decoding reuses one heap-allocated prometheus::WriteRequest per DecodedRequest rather than an
// arena: protobuf's Clear() keeps the cleared sub-messages and the capacity of their strings, so
// once a receiver has seen a request of a given shape, parsing the next allocates nothing. An
// arena message (reset per request) still mallocs every label string longer than the SSO buffer;
// bench/codec/decode_bench.cpp measures both.
// libprotobuf rather than a hand-written wire walker: on the bench's 2000-series request Decode
// costs ~0.8-1.0 us per single-sample series, a walker ~0.25 us, while Prometheus 2.42 spends
// ~8 us of CPU per sample on its whole remote-write receive path, so the library is not what
// stands between the collector and its throughput goal.
struct DecodedRequest::Storage {
  prometheus::WriteRequest message;
  std::unique_ptr<char[]> uncompressed;
  size_t uncompressed_capacity = 0;
  size_t uncompressed_size = 0;  // set even when parsing fails: what the buffers grew to hold

  // A parsed message takes several times its wire size, and reuse would keep the largest request
  // ever seen resident; past this size the buffers are dropped instead, so an occasional huge
  // request costs one slower decode rather than memory held for the process's lifetime.
  static constexpr size_t kKeepBuffersUpTo = 8 << 20;
  bool HoldsLargeBuffers() const { return uncompressed_size > kKeepBuffersUpTo; }

  bool Uncompress(std::string_view body, size_t max_uncompressed_bytes, std::string* error);
};

DecodedRequest::DecodedRequest() : storage_(std::make_unique<Storage>()) {}
DecodedRequest::~DecodedRequest() = default;

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown: return "unknown";
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateset: return "stateset";
  }
  return "unknown";
}

namespace {

// proto3 enums keep values the schema does not know; Prometheus treats those as unknown.
MetricType MetricTypeFromWire(int value) {
  if (value < static_cast<int>(MetricType::kUnknown) ||
      value > static_cast<int>(MetricType::kStateset)) {
    return MetricType::kUnknown;
  }
  return static_cast<MetricType>(value);
}

void FillSeries(const prometheus::WriteRequest& message, std::vector<DecodedRequest::Series>& series,
                std::vector<LabelView>& labels, std::vector<Sample>& samples) {
  series.reserve(message.timeseries_size());
  for (const prometheus::TimeSeries& ts : message.timeseries()) {
    DecodedRequest::Series& out = series.emplace_back();
    out.label_begin = static_cast<uint32_t>(labels.size());
    for (const prometheus::Label& label : ts.labels()) {
      labels.push_back(LabelView{label.name(), label.value()});
    }
    out.label_end = static_cast<uint32_t>(labels.size());
    out.sample_begin = static_cast<uint32_t>(samples.size());
    for (const prometheus::Sample& sample : ts.samples()) {
      samples.push_back(Sample{sample.timestamp(), sample.value()});
    }
    out.sample_end = static_cast<uint32_t>(samples.size());
  }
}

void FillMetadata(const prometheus::WriteRequest& message, std::vector<MetricMetadata>& metadata) {
  metadata.reserve(message.metadata_size());
  for (const prometheus::MetricMetadata& in : message.metadata()) {
    metadata.push_back(MetricMetadata{MetricTypeFromWire(in.type()), in.metric_family_name(),
                                      in.help(), in.unit()});
  }
}

bool Fail(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

}  // namespace

bool DecodedRequest::Storage::Uncompress(std::string_view body, size_t max_uncompressed_bytes,
                                         std::string* error) {
  size_t size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &size)) {
    return Fail(error, "snappy: corrupt input");
  }
  // Checked before allocating: the length header is the sender's claim, and a tiny body may
  // announce gigabytes.
  if (size > max_uncompressed_bytes) {
    return Fail(error, "decoded size " + std::to_string(size) + " exceeds limit " +
                           std::to_string(max_uncompressed_bytes));
  }
  // Protobuf parses at most 2 GiB; that bound also keeps the 32-bit label and sample indices of
  // Series from wrapping, since every label and sample takes at least 2 bytes on the wire.
  if (size > static_cast<size_t>(INT_MAX)) {
    return Fail(error, "decoded size " + std::to_string(size) + " exceeds protobuf's 2 GiB limit");
  }
  if (size > uncompressed_capacity) {
    uncompressed = std::make_unique_for_overwrite<char[]>(size);
    uncompressed_capacity = size;
  }
  uncompressed_size = size;
  if (!snappy::RawUncompress(body.data(), body.size(), uncompressed.get())) {
    return Fail(error, "snappy: corrupt input");
  }
  return true;
}

bool Decode(std::string_view body, size_t max_uncompressed_bytes, DecodedRequest* out,
            std::string* error) {
  if (out->storage_->HoldsLargeBuffers()) {
    out->storage_ = std::make_unique<DecodedRequest::Storage>();
    out->series_ = {};
    out->labels_ = {};
    out->samples_ = {};
  }
  out->series_.clear();
  out->labels_.clear();
  out->samples_.clear();
  out->metadata_.clear();
  out->uncompressed_bytes_ = 0;

  DecodedRequest::Storage& storage = *out->storage_;
  if (!storage.Uncompress(body, max_uncompressed_bytes, error)) return false;
  if (!storage.message.ParseFromArray(storage.uncompressed.get(),
                                      static_cast<int>(storage.uncompressed_size))) {
    return Fail(error, "protobuf: cannot parse WriteRequest");
  }
  FillSeries(storage.message, out->series_, out->labels_, out->samples_);
  FillMetadata(storage.message, out->metadata_);
  out->uncompressed_bytes_ = storage.uncompressed_size;
  return true;
}

std::string Encode(const WriteRequest& request) {
  google::protobuf::Arena arena;
  auto* message = google::protobuf::Arena::CreateMessage<prometheus::WriteRequest>(&arena);
  message->mutable_timeseries()->Reserve(static_cast<int>(request.series.size()));
  for (const TimeSeries& series : request.series) {
    prometheus::TimeSeries* ts = message->add_timeseries();
    ts->mutable_labels()->Reserve(static_cast<int>(series.labels.size()));
    for (const Label& label : series.labels) {
      prometheus::Label* out = ts->add_labels();
      out->set_name(label.name);
      out->set_value(label.value);
    }
    ts->mutable_samples()->Reserve(static_cast<int>(series.samples.size()));
    for (const Sample& sample : series.samples) {
      prometheus::Sample* out = ts->add_samples();
      out->set_value(sample.v);
      out->set_timestamp(sample.t);
    }
  }
  for (const MetricMetadata& metadata : request.metadata) {
    prometheus::MetricMetadata* out = message->add_metadata();
    out->set_type(static_cast<prometheus::MetricMetadata_MetricType>(metadata.type));
    out->set_metric_family_name(metadata.family);
    out->set_help(metadata.help);
    out->set_unit(metadata.unit);
  }
  std::string serialized;
  message->SerializeToString(&serialized);
  std::string compressed;
  snappy::Compress(serialized.data(), serialized.size(), &compressed);
  return compressed;
}

}  // namespace crmscope::remote_write
