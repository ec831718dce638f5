// The Zipf sampler behind customer popularity: frequencies against the model, and the rank to id
// bijection.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "crm_demo/loadgen/zipf_sampler.h"

using crmscope::loadgen::RankToId;
using crmscope::loadgen::ZipfSampler;

namespace {

// The model's probabilities computed here, independently of the sampler's CDF.
std::vector<double> ZipfProbabilities(size_t n, double s) {
  std::vector<double> p(n);
  double total = 0;
  for (size_t k = 0; k < n; ++k) total += p[k] = std::pow(static_cast<double>(k + 1), -s);
  for (double& x : p) x /= total;
  return p;
}

double ChiSquare(const std::vector<uint64_t>& observed, const std::vector<double>& p,
                 uint64_t draws) {
  double chi2 = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    const double expected = p[k] * static_cast<double>(draws);
    const double diff = static_cast<double>(observed[k]) - expected;
    chi2 += diff * diff / expected;
  }
  return chi2;
}

}  // namespace

TEST_CASE("crm_loadgen zipf: frequencies pass a chi-square test against the model") {
  constexpr size_t kRanks = 50;
  constexpr uint64_t kDraws = 500000;
  for (double skew : {0.0, 0.8, 1.1, 1.5}) {
    CAPTURE(skew);
    ZipfSampler sampler(kRanks, skew);
    std::mt19937_64 rng(2024);
    std::vector<uint64_t> observed(kRanks, 0);
    for (uint64_t i = 0; i < kDraws; ++i) ++observed.at(sampler.Sample(rng));
    const std::vector<double> p = ZipfProbabilities(kRanks, skew);
    // 49 degrees of freedom: P(chi2 > 85.4) = 0.001 for a correct sampler.
    CHECK(ChiSquare(observed, p, kDraws) < 85.4);
    // The test can fail: the same counts are far from a neighbouring skew's model.
    CHECK(ChiSquare(observed, ZipfProbabilities(kRanks, skew + 0.1), kDraws) > 200);
  }
}

TEST_CASE("crm_loadgen zipf: a 100k-customer population keeps the head's share") {
  ZipfSampler sampler(100000, 1.1);
  const std::vector<double> p = ZipfProbabilities(100000, 1.1);
  CHECK(sampler.Probability(0) == doctest::Approx(p[0]).epsilon(1e-9));
  CHECK(sampler.Probability(99999) == doctest::Approx(p[99999]).epsilon(1e-6));
  std::mt19937_64 rng(5);
  constexpr int kDraws = 400000;
  int top = 0, top10 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t rank = sampler.Sample(rng);
    REQUIRE(rank < 100000);
    top += rank == 0;
    top10 += rank < 10;
  }
  double p10 = 0;
  for (int k = 0; k < 10; ++k) p10 += p[k];
  CHECK(top / double(kDraws) == doctest::Approx(p[0]).epsilon(0.02));
  CHECK(top10 / double(kDraws) == doctest::Approx(p10).epsilon(0.01));
  // Edges of the inversion: 0 is the hottest rank, just below 1 the coldest.
  CHECK(sampler.RankAt(0.0) == 0);
  CHECK(sampler.RankAt(std::nextafter(1.0, 0.0)) == 99999);
}

TEST_CASE("crm_loadgen zipf: ranks map to every id of the range exactly once") {
  for (uint64_t n : {1ULL, 2ULL, 97ULL, 1000ULL, 100000ULL}) {
    CAPTURE(n);
    RankToId to_id(1, n);
    std::set<uint64_t> ids;
    for (uint64_t rank = 0; rank < n; ++rank) {
      const uint64_t id = to_id(rank);
      REQUIRE(id >= 1);
      REQUIRE(id <= n);
      ids.insert(id);
    }
    CHECK(ids.size() == n);
  }
  // The hottest ranks do not sit together at the start of the table.
  RankToId to_id(1, 100000);
  CHECK(std::abs(static_cast<int64_t>(to_id(1)) - static_cast<int64_t>(to_id(0))) > 1000);
  CHECK(RankToId(500, 10)(0) == 500);
}
