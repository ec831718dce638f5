#pragma once

#include <chrono>
#include <cstdint>

namespace crmscope::crm {

using CacheTimePoint = std::chrono::steady_clock::time_point;

// An entry stored without a TTL expires at kNeverExpires; lookups made without reading the
// clock pass kNoTime, which is earlier than every expiry, so ttl=0 never touches the clock.
inline constexpr CacheTimePoint kNeverExpires = CacheTimePoint::max();
inline constexpr CacheTimePoint kNoTime = CacheTimePoint::min();

// Per-store counters, guarded by whatever guards the store (its shard's mutex).
// Expired entries count as misses, not evictions: an eviction is an entry pushed out by the
// capacity bound, which is what a thrashing cache (the cache_capacity fault) must show.
struct StoreCounters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
};

}  // namespace crmscope::crm
