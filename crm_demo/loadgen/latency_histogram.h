// A latency histogram in the manner of HdrHistogram: buckets grow with the value, so every
// recorded latency keeps the same relative precision (better than 1%) from a microsecond to hours,
// in a fixed array allocated once. Recording is an index computation and an increment, so the
// load generator can record every request without allocating or sorting.
//
// Values are nanoseconds. Below 128 ns every value has its own bucket; above, each power of two
// is split into 128 equal buckets, so a bucket is at most 1/128 (0.78%) of its values wide, and a
// quantile reported as the bucket's midpoint is within 0.4% of a recorded value. Values beyond
// ~9.7 hours are clamped into the last bucket (the exact maximum is kept apart).
//
// Not thread-safe: one thread records; merge per-thread histograms to combine them.
#pragma once

#include <cstdint>
#include <vector>

namespace crmscope::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(int64_t value_ns);
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The smallest recorded value v such that at least q of the values are <= v, as HdrHistogram
  // defines it; within the bucket precision, clamped to [min, max], and exact for the first and
  // last ranks (min and max). 0 when empty.
  int64_t Quantile(double q) const;

  // A copy with the samples a client sending every `expected_interval_ns` would also have
  // recorded while each slow response held its connection: for a value v, the values
  // v - e, v - 2e, ... down to (not including) e. This is HdrHistogram's correction for
  // coordinated omission, which wrk 4 applies to every closed-loop run with e = the mean time
  // between two requests of one connection; comparing with wrk's percentiles needs it. An
  // added sample carries the bucket error of the value it derives from (<= 1/256 of it).
  LatencyHistogram CorrectedForExpectedInterval(int64_t expected_interval_ns) const;

  // Bucket arithmetic, public for the tests' precision checks.
  static int BucketIndex(int64_t value_ns);
  static int64_t BucketLowest(int index);
  static int64_t BucketHighest(int index);  // inclusive

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  // Nanosecond sums overflow only after 584 years of accumulated latency.
  uint64_t sum_ = 0;

  static int64_t BucketMidpoint(int index);
  void RecordCount(int64_t value_ns, uint64_t count);
};

}  // namespace crmscope::loadgen
