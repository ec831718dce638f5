#include "collector/storage/xor_chunk.h"

#include <algorithm>
#include <cassert>

namespace crmscope::storage {
namespace {

constexpr size_t kHeaderBytes = 2;  // big-endian sample count
constexpr uint8_t kNoWindow = 0xff;
// Go's binary.MaxVarintLen64: a uvarint longer than this is corrupt.
constexpr int kMaxVarintBytes = 10;

// Prometheus's bucket ranges are asymmetric, [-(2^(n-1) - 1), 2^(n-1)], because its decoder
// reads an n-bit value above 2^(n-1) back as negative; the bounds must match for interchange.
bool FitsDodBucket(int64_t dod, int nbits) {
  const int64_t half = int64_t{1} << (nbits - 1);
  return -(half - 1) <= dod && dod <= half;
}

int64_t SignExtendDod(uint64_t bits, int nbits) {
  const uint64_t half = uint64_t{1} << (nbits - 1);
  if (bits > half) bits -= uint64_t{1} << nbits;
  return static_cast<int64_t>(bits);
}

// Varints as Go's encoding/binary writes them, one byte per bit-stream write: the bytes of
// timestamps in the first two samples are not byte-aligned in general.
bool ReadUvarint(BitReader& reader, uint64_t* value) {
  uint64_t result = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    const uint64_t byte = reader.ReadBits(8);
    if (reader.overrun()) return false;
    if (byte < 0x80) {
      if (i == kMaxVarintBytes - 1 && byte > 1) return false;  // more than 64 bits
      *value = result | (byte << (7 * i));
      return true;
    }
    result |= (byte & 0x7f) << (7 * i);
  }
  return false;
}

bool ReadVarint(BitReader& reader, int64_t* value) {
  uint64_t zigzag = 0;
  if (!ReadUvarint(reader, &zigzag)) return false;
  const uint64_t magnitude = zigzag >> 1;
  *value = static_cast<int64_t>((zigzag & 1) != 0 ? ~magnitude : magnitude);
  return true;
}

int ReadCount(std::string_view bytes) {
  return (static_cast<uint8_t>(bytes[0]) << 8) | static_cast<uint8_t>(bytes[1]);
}

}  // namespace

XorChunk::XorChunk() : writer_(std::string_view("\0\0", kHeaderBytes), 0) {}

std::optional<XorChunk> XorChunk::FromBytes(std::string_view bytes) {
  XorIterator it(bytes);
  XorChunk chunk;
  while (it.Next()) {
    if (it.read_ == 1) chunk.first_t_ = it.t_;
  }
  if (it.error()) return std::nullopt;

  // Appending must go on exactly where the last sample's bits end, so what follows them has to
  // be padding: less than a byte of it, or Prometheus's empty trailing byte, and all zero.
  const size_t stream_bits = (bytes.size() - kHeaderBytes) * 8;
  const size_t free_bits = stream_bits - it.reader_.bit_position();
  if (free_bits > 8) return std::nullopt;
  if (free_bits > 0 &&
      (static_cast<uint8_t>(bytes.back()) & LowBitsMask(static_cast<int>(free_bits))) != 0) {
    return std::nullopt;
  }

  chunk.writer_ = BitWriter(bytes, static_cast<int>(free_bits));
  chunk.num_samples_ = it.read_;
  chunk.last_t_ = it.t_;
  chunk.last_delta_ = it.delta_;
  chunk.last_v_bits_ = it.v_bits_;
  chunk.leading_ = it.window_known_ ? it.leading_ : kNoWindow;
  chunk.trailing_ = it.trailing_;
  return chunk;
}

void XorChunk::Append(TimestampMs t, double v) {
  assert(num_samples_ < 0xffff && "the 2-byte sample count would wrap");
  const uint64_t v_bits = std::bit_cast<uint64_t>(v);
  // Unsigned arithmetic wraps as Go's does, so timestamps spanning more than 2^63 ms still
  // round-trip instead of overflowing.
  const uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(last_t_);
  if (num_samples_ == 0) {
    WriteVarint(t);
    writer_.WriteBits(v_bits, 64);
    first_t_ = t;
    last_delta_ = 0;
  } else {
    if (num_samples_ == 1) {
      WriteUvarint(delta);
    } else {
      WriteDeltaOfDelta(static_cast<int64_t>(delta - static_cast<uint64_t>(last_delta_)));
    }
    WriteValue(v_bits);
    last_delta_ = static_cast<int64_t>(delta);
  }
  last_t_ = t;
  last_v_bits_ = v_bits;
  ++num_samples_;
  writer_.OverwriteByte(0, static_cast<uint8_t>(num_samples_ >> 8));
  writer_.OverwriteByte(1, static_cast<uint8_t>(num_samples_));
}

std::string_view XorChunk::bytes() const { return writer_.bytes(); }

double XorChunk::last_v() const { return std::bit_cast<double>(last_v_bits_); }

void XorChunk::WriteVarint(int64_t value) {
  const uint64_t shifted = static_cast<uint64_t>(value) << 1;
  WriteUvarint(value < 0 ? ~shifted : shifted);
}

void XorChunk::WriteUvarint(uint64_t value) {
  while (value >= 0x80) {
    writer_.WriteBits((value & 0x7f) | 0x80, 8);
    value >>= 7;
  }
  writer_.WriteBits(value, 8);
}

// Prometheus widens Gorilla's buckets (7/9/12 bits for second-resolution timestamps) to
// 14/17/20 bits because its timestamps are milliseconds.
void XorChunk::WriteDeltaOfDelta(int64_t dod) {
  const uint64_t bits = static_cast<uint64_t>(dod);
  if (dod == 0) {
    writer_.WriteBit(false);
  } else if (FitsDodBucket(dod, 14)) {
    writer_.WriteBits(0b10, 2);
    writer_.WriteBits(bits, 14);
  } else if (FitsDodBucket(dod, 17)) {
    writer_.WriteBits(0b110, 3);
    writer_.WriteBits(bits, 17);
  } else if (FitsDodBucket(dod, 20)) {
    writer_.WriteBits(0b1110, 4);
    writer_.WriteBits(bits, 20);
  } else {
    writer_.WriteBits(0b1111, 4);
    writer_.WriteBits(bits, 64);
  }
}

void XorChunk::WriteValue(uint64_t v_bits) {
  const uint64_t xored = v_bits ^ last_v_bits_;
  if (xored == 0) {
    writer_.WriteBit(false);
    return;
  }
  // The leading-zero count has 5 bits in the stream.
  const uint8_t leading = static_cast<uint8_t>(std::min(std::countl_zero(xored), 31));
  const uint8_t trailing = static_cast<uint8_t>(std::countr_zero(xored));
  if (leading_ != kNoWindow && leading >= leading_ && trailing >= trailing_) {
    writer_.WriteBits(0b10, 2);
    writer_.WriteBits(xored >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  const int significant = 64 - leading - trailing;
  writer_.WriteBits(0b11, 2);
  writer_.WriteBits(leading, 5);
  // 64 significant bits do not fit the 6-bit field; 0 never occurs otherwise (that is an
  // unchanged value), so 0 stands for 64 (WriteBits keeps the low 6 bits of 64, which are 0).
  writer_.WriteBits(static_cast<uint64_t>(significant), 6);
  writer_.WriteBits(xored >> trailing, significant);
}

XorIterator::XorIterator(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    error_ = true;
    return;
  }
  total_ = ReadCount(bytes);
  reader_ = BitReader(bytes.substr(kHeaderBytes));
}

bool XorIterator::Next() {
  if (error_ || read_ >= total_) return false;
  const bool ok = read_ == 0 ? ReadFirst() : read_ == 1 ? ReadSecond() : ReadFollowing();
  if (!ok || reader_.overrun()) return Fail();
  ++read_;
  return true;
}

bool XorIterator::Seek(TimestampMs target) {
  if (error_) return false;
  while (read_ == 0 || t_ < target) {
    if (!Next()) return false;
  }
  return true;
}

bool XorIterator::ReadFirst() {
  if (!ReadVarint(reader_, &t_)) return false;
  v_bits_ = reader_.ReadBits(64);
  return true;
}

bool XorIterator::ReadSecond() {
  uint64_t delta = 0;
  if (!ReadUvarint(reader_, &delta)) return false;
  delta_ = static_cast<int64_t>(delta);
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + delta);
  return ReadValue();
}

bool XorIterator::ReadFollowing() {
  int ones = 0;
  while (ones < 4 && reader_.ReadBit()) ++ones;
  int64_t dod = 0;
  switch (ones) {
    case 0: break;
    case 1: dod = SignExtendDod(reader_.ReadBits(14), 14); break;
    case 2: dod = SignExtendDod(reader_.ReadBits(17), 17); break;
    case 3: dod = SignExtendDod(reader_.ReadBits(20), 20); break;
    default: dod = static_cast<int64_t>(reader_.ReadBits(64)); break;
  }
  delta_ = static_cast<int64_t>(static_cast<uint64_t>(delta_) + static_cast<uint64_t>(dod));
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(delta_));
  return ReadValue();
}

bool XorIterator::ReadValue() {
  if (!reader_.ReadBit()) return true;  // unchanged value
  if (reader_.ReadBit()) {
    const int leading = static_cast<int>(reader_.ReadBits(5));
    int significant = static_cast<int>(reader_.ReadBits(6));
    if (significant == 0) significant = 64;
    if (leading + significant > 64) return false;
    leading_ = static_cast<uint8_t>(leading);
    trailing_ = static_cast<uint8_t>(64 - leading - significant);
  }
  // A window read before any was set is Prometheus's: a chunk it reopened for appending starts
  // from leading = trailing = 0, so the XOR is stored in full.
  window_known_ = true;
  v_bits_ ^= reader_.ReadBits(64 - leading_ - trailing_) << trailing_;
  return true;
}

bool XorIterator::Fail() {
  error_ = true;
  return false;
}

}  // namespace crmscope::storage
