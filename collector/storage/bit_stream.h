// Bit-granular writing and reading of a byte buffer, most significant bit first: the substrate of
// the XOR chunk (Prometheus keeps the same split: tsdb/chunkenc/bstream.go beside xor.go).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace crmscope::storage {

inline constexpr uint64_t LowBitsMask(int nbits) {
  return nbits >= 64 ? ~uint64_t{0} : (uint64_t{1} << nbits) - 1;
}

// Appends bits to a growing buffer. Reproduces Prometheus's bstream byte for byte, including its
// one quirk: a write of whole bytes (nbits a multiple of 8) that ends on a byte boundary leaves an
// empty byte at the end, which the next write fills. Matching it makes chunks identical to the
// ones Prometheus writes for the same samples, so its own chunks serve as test fixtures.
class BitWriter {
 public:
  BitWriter() = default;

  // Resumes writing after `bytes`, whose last byte has its `free_bits` low bits unused and zero
  // (0..8; 8 is the empty trailing byte described above).
  BitWriter(std::string_view bytes, int free_bits) : bytes_(bytes), free_bits_(free_bits) {}

  void WriteBit(bool bit) {
    if (free_bits_ == 0) {
      bytes_.push_back('\0');
      free_bits_ = 8;
    }
    --free_bits_;
    if (bit) {
      bytes_.back() = static_cast<char>(static_cast<uint8_t>(bytes_.back()) | 1u << free_bits_);
    }
  }

  // Writes the low `nbits` (0..64) bits of `value`, most significant first.
  void WriteBits(uint64_t value, int nbits) {
    if (nbits <= 0) return;
    value &= LowBitsMask(nbits);
    int left = nbits;
    if (free_bits_ > 0) {
      const int taken = free_bits_ < left ? free_bits_ : left;
      const uint64_t head = value >> (left - taken);
      bytes_.back() =
          static_cast<char>(static_cast<uint8_t>(bytes_.back()) | (head << (free_bits_ - taken)));
      free_bits_ -= taken;
      left -= taken;
    }
    while (left >= 8) {
      left -= 8;
      bytes_.push_back(static_cast<char>(value >> left));
    }
    if (left > 0) {
      bytes_.push_back(static_cast<char>(value << (8 - left)));
      free_bits_ = 8 - left;
    }
    if (free_bits_ == 0 && nbits % 8 == 0) {
      bytes_.push_back('\0');
      free_bits_ = 8;
    }
  }

  // For a header that a format patches in place (the XOR chunk's sample count).
  void OverwriteByte(size_t index, uint8_t value) { bytes_[index] = static_cast<char>(value); }

  std::string_view bytes() const { return bytes_; }

 private:
  std::string bytes_;
  int free_bits_ = 0;  // unused low bits of the last byte
};

// Reads bits from a byte buffer it does not own. A read past the end returns 0 and sets
// overrun(), which stays set: a decoder checks once per record rather than after every read.
class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view bytes) : bytes_(bytes) {}

  bool ReadBit() { return ReadBits(1) != 0; }

  // Reads `nbits` (1..64) bits into the low bits of the result.
  uint64_t ReadBits(int nbits) {
    if (nbits <= valid_) {
      valid_ -= nbits;
      return (buffer_ >> valid_) & LowBitsMask(nbits);
    }
    return ReadBitsAcrossBuffer(nbits);
  }

  bool overrun() const { return overrun_; }
  // Bits consumed so far.
  size_t bit_position() const { return offset_ * 8 - static_cast<size_t>(valid_); }

 private:
  uint64_t ReadBitsAcrossBuffer(int nbits) {
    const uint64_t high = buffer_ & LowBitsMask(valid_);
    const int rest = nbits - valid_;
    valid_ = 0;
    if (!Refill() || rest > valid_) return Overrun();
    valid_ -= rest;
    const uint64_t low = (buffer_ >> valid_) & LowBitsMask(rest);
    return rest >= 64 ? low : (high << rest) | low;
  }

  // Loads up to 8 bytes into the buffer; only called once it is empty.
  bool Refill() {
    const size_t remaining = bytes_.size() - offset_;
    if (remaining == 0) return false;
    if (remaining >= 8) {
      uint64_t word;
      std::memcpy(&word, bytes_.data() + offset_, 8);
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
      buffer_ = word;
      offset_ += 8;
      valid_ = 64;
      return true;
    }
    buffer_ = 0;
    for (size_t i = 0; i < remaining; ++i) {
      buffer_ = (buffer_ << 8) | static_cast<uint8_t>(bytes_[offset_ + i]);
    }
    offset_ += remaining;
    valid_ = static_cast<int>(remaining * 8);
    return true;
  }

  uint64_t Overrun() {
    overrun_ = true;
    valid_ = 0;
    offset_ = bytes_.size();
    return 0;
  }

  std::string_view bytes_;
  size_t offset_ = 0;    // next byte to load into buffer_
  uint64_t buffer_ = 0;  // loaded bits; the low valid_ ones are still unread
  int valid_ = 0;
  bool overrun_ = false;
};

}  // namespace crmscope::storage
