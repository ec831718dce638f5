// The load generator's latency histogram: bucket precision, and quantiles of known distributions
// against the exact quantiles of the same samples.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "crm_demo/loadgen/latency_histogram.h"

using crmscope::loadgen::LatencyHistogram;

namespace {

// HdrHistogram's definition, which the histogram promises: the smallest sample such that at
// least q of the samples are <= it.
int64_t ExactQuantile(std::vector<int64_t> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::max<size_t>(rank, 1);
  return sorted[rank - 1];
}

void CheckQuantiles(const std::vector<int64_t>& samples) {
  LatencyHistogram h;
  for (int64_t v : samples) h.Record(v);
  REQUIRE(h.count() == samples.size());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = static_cast<double>(ExactQuantile(samples, q));
    const double got = static_cast<double>(h.Quantile(q));
    INFO("q=" << q << " exact=" << exact << " got=" << got);
    CHECK(std::abs(got - exact) <= 0.01 * exact);
  }
  CHECK(h.max() == *std::max_element(samples.begin(), samples.end()));
  CHECK(h.min() == *std::min_element(samples.begin(), samples.end()));
}

}  // namespace

TEST_CASE("crm_loadgen histogram: every bucket is at most 1/128 of its values wide") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> log_value(0.0, std::log(3.0e13));
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<int64_t>(std::exp(log_value(rng)));
    const int index = LatencyHistogram::BucketIndex(v);
    const int64_t lo = LatencyHistogram::BucketLowest(index);
    const int64_t hi = LatencyHistogram::BucketHighest(index);
    REQUIRE(lo <= v);
    REQUIRE(v <= hi);
    REQUIRE(static_cast<double>(hi - lo + 1) <= std::max(1.0, static_cast<double>(v) / 128.0));
  }
  // Buckets tile the range: each starts right after the previous one ends.
  for (int index = 1; index < 4000; ++index) {
    REQUIRE(LatencyHistogram::BucketLowest(index) ==
            LatencyHistogram::BucketHighest(index - 1) + 1);
  }
}

TEST_CASE("crm_loadgen histogram: quantiles of a uniform distribution") {
  std::vector<int64_t> samples;
  for (int64_t us = 1; us <= 100000; ++us) samples.push_back(us * 1000);  // 1 us .. 100 ms
  CheckQuantiles(samples);
  LatencyHistogram h;
  for (int64_t v : samples) h.Record(v);
  CHECK(h.Quantile(0.5) == doctest::Approx(50'000'000).epsilon(0.005));
  CHECK(h.mean() == doctest::Approx(50'000'500).epsilon(1e-9));
}

TEST_CASE("crm_loadgen histogram: quantiles of exponential, log-normal and bimodal latencies") {
  std::mt19937_64 rng(42);
  SUBCASE("exponential, mean 5 ms") {
    std::exponential_distribution<double> d(1.0 / 5e6);
    std::vector<int64_t> samples;
    for (int i = 0; i < 200000; ++i) samples.push_back(static_cast<int64_t>(d(rng)) + 1);
    CheckQuantiles(samples);
  }
  SUBCASE("log-normal around 2 ms with a heavy tail") {
    std::lognormal_distribution<double> d(std::log(2e6), 1.2);
    std::vector<int64_t> samples;
    for (int i = 0; i < 200000; ++i) samples.push_back(static_cast<int64_t>(d(rng)));
    CheckQuantiles(samples);
  }
  SUBCASE("bimodal: 98% near 1 ms, 2% near 500 ms (a stall)") {
    std::normal_distribution<double> fast(1e6, 1e5), slow(5e8, 2e7);
    std::bernoulli_distribution stalled(0.02);
    std::vector<int64_t> samples;
    for (int i = 0; i < 100000; ++i) {
      samples.push_back(static_cast<int64_t>(std::max(1e3, stalled(rng) ? slow(rng) : fast(rng))));
    }
    CheckQuantiles(samples);
    LatencyHistogram h;
    for (int64_t v : samples) h.Record(v);
    CHECK(h.Quantile(0.5) < 2'000'000);
    CHECK(h.Quantile(0.99) > 400'000'000);
  }
}

TEST_CASE("crm_loadgen histogram: merge equals recording everything in one; reset empties") {
  LatencyHistogram a, b, both;
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> d(1.0 / 1e6);
  for (int i = 0; i < 10000; ++i) {
    const auto v = static_cast<int64_t>(d(rng));
    (i % 3 ? a : b).Record(v);
    both.Record(v);
  }
  a.Merge(b);
  CHECK(a.count() == both.count());
  CHECK(a.max() == both.max());
  CHECK(a.min() == both.min());
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) CHECK(a.Quantile(q) == both.Quantile(q));
  a.Reset();
  CHECK(a.count() == 0);
  CHECK(a.Quantile(0.99) == 0);
  CHECK(a.max() == 0);
  a.Record(5);
  CHECK(a.min() == 5);
  CHECK(a.Quantile(0.5) == 5);
}

TEST_CASE("crm_loadgen histogram: huge values are clamped to the last bucket, max stays exact") {
  LatencyHistogram h;
  h.Record(1000);
  h.Record(int64_t{1} << 50);  // 13 days
  CHECK(h.max() == int64_t{1} << 50);
  CHECK(h.Quantile(1.0) == int64_t{1} << 50);  // clamped to [min, max], the bucket is lower
  CHECK(h.Quantile(0.5) == 1000);
  h.Record(-5);  // a clock step backwards must not index out of range
  CHECK(h.min() == 0);
}

TEST_CASE("crm_loadgen histogram: the coordinated-omission correction adds what wrk adds") {
  // wrk 4's stats_correct on exact values: each value v >= 2e also counts v - e, v - 2e, ...
  // while they stay above e.
  const int64_t e = 1'000'000;  // 1 ms between two requests of a connection
  std::vector<int64_t> exact;
  LatencyHistogram h;
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> fast(1.0 / 400e3);
  for (int i = 0; i < 20000; ++i) {
    // 1% of the requests hit a 20-60 ms stall.
    const auto v = static_cast<int64_t>(i % 100 == 0 ? 20e6 + 40e6 * (i % 7) / 6.0 : fast(rng));
    h.Record(v);
    exact.push_back(v);
    for (int64_t m = v - e; v >= 2 * e && m > e; m -= e) exact.push_back(m);
  }
  const LatencyHistogram corrected = h.CorrectedForExpectedInterval(e);
  CHECK(corrected.count() == doctest::Approx(static_cast<double>(exact.size())).epsilon(0.01));
  CHECK(corrected.max() == h.max());
  for (double q : {0.5, 0.75, 0.9, 0.99}) {
    const double want = static_cast<double>(ExactQuantile(exact, q));
    INFO("q=" << q << " exact=" << want << " got=" << corrected.Quantile(q));
    // An added sample inherits the bucket error of the slow value it derives from (<= 1/256
    // of it), on top of its own.
    const double tolerance = 0.01 * want + static_cast<double>(h.max()) / 256;
    CHECK(std::abs(static_cast<double>(corrected.Quantile(q)) - want) <= tolerance);
  }
  // The correction moves the percentiles: p90 goes from a fast response into the stalls.
  CHECK(h.Quantile(0.9) < 2 * e);
  CHECK(corrected.Quantile(0.9) > 5 * e);
  CHECK(h.CorrectedForExpectedInterval(0).count() == h.count());
}
