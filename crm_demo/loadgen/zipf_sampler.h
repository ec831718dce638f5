// Zipf-distributed ranks: rank k in [0, n) is drawn with probability proportional to
// 1 / (k + 1)^s. A CRM's traffic concentrates on few customers (key accounts, open escalations);
// s = 0 is uniform, s around 1 matches the skew usually measured on web caches.
//
// Sampling inverts a precomputed CDF by binary search: O(log n) per draw, 8 bytes per rank,
// built once (100k customers: 0.8 MB, a few milliseconds).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace crmscope::loadgen {

class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double skew);

  uint64_t size() const { return cdf_.size(); }
  double Probability(uint64_t rank) const;  // the exact model probability of `rank`

  template <class Rng>
  uint64_t Sample(Rng& rng) const {
    return RankAt(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
  }
  uint64_t RankAt(double uniform) const;  // uniform in [0, 1)

 private:
  std::vector<double> cdf_;  // cdf_[k] = P(rank <= k), cdf_.back() == 1
};

// Spreads ranks over an id range [first, first + n) by a fixed bijection, so the hottest
// customers are scattered through the table instead of sitting on its first pages, as they
// would be in a real database where popularity has nothing to do with insertion order.
class RankToId {
 public:
  RankToId(uint64_t first_id, uint64_t n);
  uint64_t operator()(uint64_t rank) const;

 private:
  uint64_t first_id_;
  uint64_t n_;
  uint64_t multiplier_;  // coprime with n_, so rank -> rank * multiplier mod n is a bijection
};

}  // namespace crmscope::loadgen
