// The Gorilla chunk encoding (Pelkonen et al., VLDB 2015) as Prometheus's tsdb/chunkenc
// implements it: timestamps as delta-of-delta with variable-width buckets, values as the XOR with
// the previous value, storing only the meaningful bits. Every float round-trips bit-exact: NaN
// payloads (the stale marker among them), +-Inf and -0.
//
// Byte layout: a 2-byte big-endian sample count, then the bit stream. Not thread-safe.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "collector/storage/bit_stream.h"
#include "common/sample.h"

namespace crmscope::storage {

class XorChunk {
 public:
  XorChunk();

  // Rebuilds a chunk (with its appender state, so appending can go on) from bytes() of an earlier
  // one; nullopt when the bytes are not a valid XOR chunk.
  static std::optional<XorChunk> FromBytes(std::string_view bytes);

  // Samples must come with strictly increasing timestamps; the caller checks.
  void Append(TimestampMs t, double v);

  std::string_view bytes() const;
  int num_samples() const { return num_samples_; }
  TimestampMs first_t() const { return first_t_; }
  TimestampMs last_t() const { return last_t_; }
  double last_v() const;

 private:
  void WriteVarint(int64_t value);
  void WriteUvarint(uint64_t value);
  void WriteDeltaOfDelta(int64_t dod);
  void WriteValue(uint64_t v_bits);

  BitWriter writer_;
  int num_samples_ = 0;
  TimestampMs first_t_ = 0;
  TimestampMs last_t_ = 0;
  int64_t last_delta_ = 0;
  uint64_t last_v_bits_ = 0;
  uint8_t leading_ = 0xff;  // leading zeros of the last stored XOR; 0xff before the first
  uint8_t trailing_ = 0;
};

// Reads the samples of a chunk's bytes in order. The bytes must outlive the iterator.
class XorIterator {
 public:
  explicit XorIterator(std::string_view bytes);
  // Advances to the next sample; false at the end or on corrupt data (then error() is true).
  bool Next();
  // Advances to the first sample with t >= target (staying put if already there).
  bool Seek(TimestampMs target);
  Sample At() const { return {t_, std::bit_cast<double>(v_bits_)}; }
  bool error() const { return error_; }
  int num_samples() const { return total_; }

 private:
  // FromBytes resumes appending from the state an iterator reaches at the end of the chunk.
  friend class XorChunk;

  bool ReadFirst();
  bool ReadSecond();
  bool ReadFollowing();
  bool ReadValue();
  bool Fail();

  BitReader reader_;
  int total_ = 0;
  int read_ = 0;
  TimestampMs t_ = 0;
  uint64_t v_bits_ = 0;
  int64_t delta_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  // Whether a value has set leading_/trailing_ yet; an appender rebuilt before that must still
  // write its next changed value with a fresh window, as the original would have.
  bool window_known_ = false;
  bool error_ = false;
};

}  // namespace crmscope::storage
