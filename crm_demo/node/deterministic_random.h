// The seeder's randomness: SplitMix64 and samplers written out here rather than the standard
// library's distributions, whose algorithms are implementation-defined. The same seed must give
// the same database with any compiler or standard library, or the demo's figures would not
// reproduce.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace crmscope::crm {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Unit() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

// Ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s: a few items are very common, most are
// rare, which is how surnames, first names and customers' order counts are distributed.
class ZipfTable {
 public:
  ZipfTable(size_t n, double s) : cdf_(n) {
    double total = 0;
    for (size_t k = 0; k < n; ++k) cdf_[k] = total += 1.0 / std::pow(static_cast<double>(k + 1), s);
    for (double& c : cdf_) c /= total;
  }
  size_t Sample(SplitMix64& rng) const {
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), rng.Unit());
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

}  // namespace crmscope::crm
