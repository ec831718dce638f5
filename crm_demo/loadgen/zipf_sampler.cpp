#include "crm_demo/loadgen/zipf_sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crmscope::loadgen {

ZipfSampler::ZipfSampler(uint64_t n, double skew) : cdf_(std::max<uint64_t>(n, 1)) {
  double total = 0.0;
  for (uint64_t k = 0; k < cdf_.size(); ++k) {
    total += std::pow(static_cast<double>(k + 1), -skew);
    cdf_[k] = total;
  }
  for (double& c : cdf_) c /= total;
  cdf_.back() = 1.0;  // rounding must not leave a gap above the last rank
}

double ZipfSampler::Probability(uint64_t rank) const {
  if (rank >= cdf_.size()) return 0.0;
  return rank == 0 ? cdf_[0] : cdf_[rank] - cdf_[rank - 1];
}

uint64_t ZipfSampler::RankAt(double uniform) const {
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), uniform);
  if (it == cdf_.end()) --it;
  return static_cast<uint64_t>(it - cdf_.begin());
}

RankToId::RankToId(uint64_t first_id, uint64_t n)
    : first_id_(first_id), n_(std::max<uint64_t>(n, 1)) {
  // A multiplier near n / golden ratio spreads consecutive ranks far apart; step to the next
  // value coprime with n so the mapping stays a bijection.
  uint64_t m = static_cast<uint64_t>(static_cast<double>(n_) * 0.6180339887) | 1;
  while (std::gcd(m, n_) != 1) ++m;
  multiplier_ = m % n_ == 0 ? 1 : m;
}

uint64_t RankToId::operator()(uint64_t rank) const {
  // 128-bit product: rank and multiplier are both below n, which may exceed 2^32.
  const unsigned __int128 product = static_cast<unsigned __int128>(rank % n_) * multiplier_;
  return first_id_ + static_cast<uint64_t>(product % n_);
}

}  // namespace crmscope::loadgen
