// A sample is one (timestamp, value) point of a time series, as Prometheus defines it.
#pragma once

#include <bit>
#include <cstdint>

namespace crmscope {

// Milliseconds since the Unix epoch, Prometheus's timestamp unit.
using TimestampMs = int64_t;

struct Sample {
  TimestampMs t = 0;
  double v = 0;
};

// Prometheus marks a series as gone by writing this particular NaN ("stale NaN"). It must be
// stored and returned bit-exact: any other NaN is an ordinary value that stays visible.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

// Two samples are the same sample only when their value bits are equal: -0 differs from +0, and
// a stale NaN from any other NaN.
inline bool SameValueBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

}  // namespace crmscope
