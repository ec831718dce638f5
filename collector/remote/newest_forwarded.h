// The newest timestamp forwarded per series, so the forwarder sends each series strictly forward
// in time. Keyed by the label set's 64-bit hash (a collision, about 1 in 10^7 at a million series,
// would make two series share one timestamp: samples of the one behind would be skipped).
// Thread-safe: striped locks, since every HTTP thread of the collector writes through it.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "common/sample.h"

namespace crmscope::collector {

class NewestForwarded {
 public:
  // Of the samples of one series (in the order received), keeps those newer than everything
  // forwarded for it before, moving them to the front of `samples`; returns how many.
  size_t KeepNewer(uint64_t series_hash, Sample* samples, size_t n);

  size_t size() const;

 private:
  // A series not written to for this long (by its own timestamps, behind its stripe's newest)
  // is forgotten: Prometheus would refuse a sample that old anyway (outside its head block).
  static constexpr TimestampMs kForgetAfterMs = 3 * 3600 * 1000;

  struct Stripe {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, TimestampMs> newest;
    TimestampMs max_t = INT64_MIN;
    size_t size_after_prune = 0;
  };
  void PruneIfGrown(Stripe& stripe);

  std::array<Stripe, 16> stripes_;
};

}  // namespace crmscope::collector
