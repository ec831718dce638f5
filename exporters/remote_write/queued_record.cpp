#include "exporters/remote_write/queued_record.h"

#include <google/protobuf/io/coded_stream.h>
#include <snappy.h>

#include <bit>
#include <climits>
#include <cstring>

namespace crmscope::remote_write {

namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Wire types and the tags of the fields the sender reads (prometheus_remote.proto).
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr uint32_t Tag(uint32_t field, uint32_t wire_type) { return field << 3 | wire_type; }
constexpr uint32_t kRequestSeries = Tag(1, kLengthDelimited);
constexpr uint32_t kRequestMetadata = Tag(3, kLengthDelimited);
constexpr uint32_t kSeriesLabel = Tag(1, kLengthDelimited);
constexpr uint32_t kSeriesSample = Tag(2, kLengthDelimited);
constexpr uint32_t kLabelName = Tag(1, kLengthDelimited);
constexpr uint32_t kLabelValue = Tag(2, kLengthDelimited);
constexpr uint32_t kSampleValue = Tag(1, kFixed64);
constexpr uint32_t kSampleTimestamp = Tag(2, kVarint);

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

bool SkipField(CodedInputStream& in, uint32_t tag) {
  switch (tag & 7) {
    case kVarint: {
      uint64_t ignored;
      return in.ReadVarint64(&ignored);
    }
    case kFixed64: return in.Skip(8);
    case kLengthDelimited: {
      uint32_t n;
      return in.ReadVarint32(&n) && n <= INT_MAX && in.Skip(static_cast<int>(n));
    }
    case kFixed32: return in.Skip(4);
    default: return false;  // groups are not in this schema
  }
}

// Reads a length-delimited field's bytes, after its tag, as a view into `base`.
bool ReadBytes(CodedInputStream& in, const char* base, std::string_view* out) {
  uint32_t n;
  if (!in.ReadVarint32(&n) || n > INT_MAX) return false;
  int at = in.CurrentPosition();
  if (!in.Skip(static_cast<int>(n))) return false;
  *out = {base + at, n};
  return true;
}

// Runs `field(tag, tag_position)` for each field of the length-delimited message that starts at
// the stream's position (its length first); true when the message ended cleanly at its length.
template <typename FieldReader>
bool ReadMessage(CodedInputStream& in, FieldReader field) {
  uint32_t n;
  if (!in.ReadVarint32(&n) || n > INT_MAX) return false;
  CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(n));
  for (;;) {
    int at = in.CurrentPosition();
    uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (!field(tag, at)) return false;
  }
  bool whole = in.BytesUntilLimit() == 0;
  in.PopLimit(limit);
  return whole;
}

bool ReadLabel(CodedInputStream& in, const char* base, LabelView* label) {
  return ReadMessage(in, [&](uint32_t tag, int) {
    if (tag == kLabelName) return ReadBytes(in, base, &label->name);
    if (tag == kLabelValue) return ReadBytes(in, base, &label->value);
    return SkipField(in, tag);
  });
}

bool ReadSample(CodedInputStream& in, Sample* sample) {
  return ReadMessage(in, [&](uint32_t tag, int) {
    uint64_t bits;
    if (tag == kSampleValue) {
      if (!in.ReadLittleEndian64(&bits)) return false;
      sample->v = std::bit_cast<double>(bits);
      return true;
    }
    if (tag == kSampleTimestamp) {
      if (!in.ReadVarint64(&bits)) return false;
      sample->t = static_cast<int64_t>(bits);
      return true;
    }
    return SkipField(in, tag);
  });
}

// Indexes one `timeseries` field; `labels` is scratch space for hashing.
bool ReadSeries(CodedInputStream& in, const char* base, QueuedRecord* out,
                std::vector<LabelView>& labels, std::string* error) {
  QueuedRecord::Series series;
  series.sample_begin = static_cast<uint32_t>(out->samples.size());
  labels.clear();
  int labels_begin = -1, labels_end = -1;
  bool contiguous = true;
  bool ok = ReadMessage(in, [&](uint32_t tag, int at) {
    if (tag == kSeriesLabel) {
      if (labels_begin < 0) labels_begin = at;
      contiguous = contiguous && (labels_end < 0 || labels_end == at);
      bool read = ReadLabel(in, base, &labels.emplace_back());
      labels_end = in.CurrentPosition();
      return read;
    }
    if (tag == kSeriesSample) return ReadSample(in, &out->samples.emplace_back());
    return SkipField(in, tag);
  });
  if (!ok) return Fail(error, "damaged timeseries");
  if (!contiguous) return Fail(error, "a timeseries' labels are interleaved with other fields");
  series.sample_end = static_cast<uint32_t>(out->samples.size());
  if (series.sample_end == series.sample_begin) return true;  // nothing to send
  if (labels_begin >= 0) {
    series.label_fields = {base + labels_begin, static_cast<size_t>(labels_end - labels_begin)};
  }
  series.hash = HashLabels(labels.data(), labels.size());
  out->series.push_back(series);
  return true;
}

}  // namespace

bool IndexRecord(std::string_view compressed, size_t max_uncompressed_bytes, QueuedRecord* out,
                 std::string* error) {
  out->series.clear();
  out->samples.clear();
  out->metadata.clear();
  size_t size = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &size)) {
    return Fail(error, "snappy: corrupt input");
  }
  if (size > max_uncompressed_bytes || size > static_cast<size_t>(INT_MAX)) {
    return Fail(error, "record of " + std::to_string(size) + " bytes uncompressed is too large");
  }
  out->wire.resize(size);
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out->wire.data())) {
    return Fail(error, "snappy: corrupt input");
  }
  const char* base = out->wire.data();
  CodedInputStream in(reinterpret_cast<const uint8_t*>(base), static_cast<int>(size));
  thread_local std::vector<LabelView> labels;
  for (;;) {
    int at = in.CurrentPosition();
    uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (tag == kRequestSeries) {
      if (!ReadSeries(in, base, out, labels, error)) return false;
    } else if (tag == kRequestMetadata) {
      std::string_view ignored;
      if (!ReadBytes(in, base, &ignored)) return Fail(error, "damaged metadata");
      out->metadata.emplace_back(base + at, static_cast<size_t>(in.CurrentPosition() - at));
    } else if (!SkipField(in, tag)) {
      return Fail(error, "damaged WriteRequest");
    }
  }
  if (in.CurrentPosition() != static_cast<int>(size)) return Fail(error, "damaged WriteRequest");
  return true;
}

void AppendSeriesField(std::string_view label_fields, const Sample* samples, size_t n,
                       std::string* wire) {
  // Each Sample is written with both fields, also when zero: valid proto3, and it spares a pass.
  size_t series_bytes = label_fields.size();
  for (size_t i = 0; i < n; ++i) {
    size_t sample_bytes = 1 + 8 + 1 + CodedOutputStream::VarintSize64(uint64_t(samples[i].t));
    series_bytes += 1 + CodedOutputStream::VarintSize32(uint32_t(sample_bytes)) + sample_bytes;
  }
  size_t old_size = wire->size();
  wire->resize(old_size + 1 + CodedOutputStream::VarintSize64(series_bytes) + series_bytes);
  auto* p = reinterpret_cast<uint8_t*>(wire->data() + old_size);
  p = CodedOutputStream::WriteTagToArray(kRequestSeries, p);
  p = CodedOutputStream::WriteVarint64ToArray(series_bytes, p);
  std::memcpy(p, label_fields.data(), label_fields.size());
  p += label_fields.size();
  for (size_t i = 0; i < n; ++i) {
    uint64_t t = static_cast<uint64_t>(samples[i].t);
    uint32_t sample_bytes = 1 + 8 + 1 + static_cast<uint32_t>(CodedOutputStream::VarintSize64(t));
    p = CodedOutputStream::WriteTagToArray(kSeriesSample, p);
    p = CodedOutputStream::WriteVarint32ToArray(sample_bytes, p);
    p = CodedOutputStream::WriteTagToArray(kSampleValue, p);
    p = CodedOutputStream::WriteLittleEndian64ToArray(std::bit_cast<uint64_t>(samples[i].v), p);
    p = CodedOutputStream::WriteTagToArray(kSampleTimestamp, p);
    p = CodedOutputStream::WriteVarint64ToArray(t, p);
  }
}

}  // namespace crmscope::remote_write
