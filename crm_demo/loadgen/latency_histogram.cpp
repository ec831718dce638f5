#include "crm_demo/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace crmscope::loadgen {

namespace {

constexpr int kSubBucketBits = 7;  // 128 buckets per power of two: 1/128 relative width
constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;
constexpr int kMaxValueBits = 45;  // 2^45 ns is 9.8 hours
constexpr int64_t kMaxValue = (int64_t{1} << kMaxValueBits) - 1;
// Values < 128 map to themselves; each exponent e in [7, 44] adds 128 buckets.
constexpr int kBucketCount =
    static_cast<int>(kSubBuckets + (kMaxValueBits - kSubBucketBits) * kSubBuckets);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

int LatencyHistogram::BucketIndex(int64_t value_ns) {
  const uint64_t v = static_cast<uint64_t>(std::clamp<int64_t>(value_ns, 0, kMaxValue));
  if (v < static_cast<uint64_t>(kSubBuckets)) return static_cast<int>(v);
  const int exponent = std::bit_width(v) - 1;  // >= kSubBucketBits
  const int shift = exponent - kSubBucketBits;
  const int sub = static_cast<int>((v >> shift) & (kSubBuckets - 1));
  return static_cast<int>(kSubBuckets) * (shift + 1) + sub;
}

int64_t LatencyHistogram::BucketLowest(int index) {
  if (index < kSubBuckets) return index;
  const int shift = index / static_cast<int>(kSubBuckets) - 1;
  const int64_t sub = index % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

int64_t LatencyHistogram::BucketHighest(int index) {
  if (index < kSubBuckets) return index;
  const int shift = index / static_cast<int>(kSubBuckets) - 1;
  return BucketLowest(index) + (int64_t{1} << shift) - 1;
}

int64_t LatencyHistogram::BucketMidpoint(int index) {
  return BucketLowest(index) + (BucketHighest(index) - BucketLowest(index)) / 2;
}

void LatencyHistogram::Record(int64_t value_ns) { RecordCount(value_ns, 1); }

void LatencyHistogram::RecordCount(int64_t value_ns, uint64_t count) {
  if (value_ns < 0) value_ns = 0;
  counts_[BucketIndex(value_ns)] += count;
  if (count_ == 0 || value_ns < min_) min_ = value_ns;
  if (count_ == 0 || value_ns > max_) max_ = value_ns;
  count_ += count;
  sum_ += static_cast<uint64_t>(value_ns) * count;
}

LatencyHistogram LatencyHistogram::CorrectedForExpectedInterval(
    int64_t expected_interval_ns) const {
  LatencyHistogram corrected = *this;
  if (expected_interval_ns <= 0) return corrected;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int64_t value = std::clamp(BucketMidpoint(static_cast<int>(i)), min_, max_);
    for (int64_t missed = value - expected_interval_ns; missed > expected_interval_ns;
         missed -= expected_interval_ns) {
      corrected.RecordCount(missed, counts_[i]);
    }
  }
  return corrected;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

int64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the wanted value, 1-based: the ceil keeps p50 of {1, 2} at 1, as HdrHistogram.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  // The extremes are kept exactly; a bucket's midpoint would only approximate them.
  if (rank == 1) return min_;
  if (rank >= count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(BucketMidpoint(static_cast<int>(i)), min_, max_);
    }
  }
  return max_;
}

}  // namespace crmscope::loadgen
