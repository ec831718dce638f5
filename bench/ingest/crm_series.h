// A CRM fleet's metrics, as a Prometheus scraping its application nodes would see them, for
// ingest benchmarks: per node, HTTP request counters by route/method/code, request-latency
// histograms by route (_bucket with le, _sum, _count) and a handful of gauges and process metrics.
// About 280 series per node; a fleet of N series is as many whole nodes as fit plus a partial one.
//
// Values follow the shapes that decide compression: counters grow by Poisson-distributed
// integers (rare error codes mostly stand still), histogram buckets stay cumulative, _sum and CPU
// seconds grow by non-round floats, gauges wander. Scrape timestamps carry a per-node offset and
// a few milliseconds of jitter, as Prometheus's scrape loop produces.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/labels.h"
#include "common/sample.h"

namespace crmscope::bench {

class CrmFleet {
 public:
  // `num_series` series, scraped every `interval_ms`; deterministic for a given seed.
  CrmFleet(size_t num_series, int64_t interval_ms, uint64_t seed = 42);

  size_t size() const { return series_.size(); }
  const Labels& labels(size_t series) const { return series_[series].labels; }

  // Advances every series by one scrape, the one at `step_start_ms` (plus each node's offset and
  // jitter), and fills `out` with one sample per series, in series order.
  void Scrape(TimestampMs step_start_ms, std::vector<Sample>* out);

 private:
  enum class Kind { kCounter, kGauge, kFloatCounter, kBucket, kSum, kCount };
  struct Series {
    Labels labels;
    Kind kind;
    uint32_t node;
    uint32_t histogram;  // kBucket, kSum, kCount: index into histograms_
    uint32_t bucket;     // kBucket: index of its upper bound
    double rate;         // counters: events per second; gauges: typical level
    double value = 0;
  };
  struct Histogram {
    double rate;           // requests per second
    double log_median;     // lognormal latency: log of the median, in seconds
    double log_spread;
    std::vector<double> cumulative;  // per bucket
    double sum = 0;
    double count = 0;
  };

  void AddNode(uint32_t node, size_t max_series);
  void ObserveLatencies(Histogram& histogram);
  double NextValue(Series& series);

  int64_t interval_ms_;
  std::mt19937_64 rng_;
  std::vector<Series> series_;
  std::vector<Histogram> histograms_;
  std::vector<int64_t> node_offsets_ms_;
};

}  // namespace crmscope::bench
