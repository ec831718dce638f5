// For tests of the remote-write wire format: a minimal protobuf writer, independent of
// libprotobuf and of crmscope's own encoders, with wire types 0 (varint), 1 (64-bit) and
// 2 (length-delimited) as the protobuf encoding guide defines them; snappy framing; and the
// labels of a decoded series as an owning label set.
#pragma once

#include <snappy.h>

#include <bit>
#include <cstdint>
#include <string>

#include "exporters/remote_write/codec.h"

namespace crmscope::testing {

inline std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
inline std::string Key(int field, int wire_type) {
  return Varint(static_cast<uint64_t>(field << 3 | wire_type));
}
inline std::string VarintField(int field, uint64_t v) { return Key(field, 0) + Varint(v); }
inline std::string DoubleField(int field, double v) {
  uint64_t bits = std::bit_cast<uint64_t>(v);
  std::string out = Key(field, 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  return out;
}
inline std::string BytesField(int field, const std::string& bytes) {
  return Key(field, 2) + Varint(bytes.size()) + bytes;
}

inline std::string Compressed(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

inline Labels LabelsOf(const remote_write::DecodedRequest& decoded,
                       const remote_write::DecodedRequest::Series& series) {
  Labels labels;
  for (uint32_t i = series.label_begin; i < series.label_end; ++i) {
    const LabelView& view = decoded.labels()[i];
    labels.push_back(Label{std::string(view.name), std::string(view.value)});
  }
  return labels;
}

}  // namespace crmscope::testing
