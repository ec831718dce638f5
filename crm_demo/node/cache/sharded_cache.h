#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/cache/store_counters.h"

namespace crmscope::crm {

// Injectable so TTL tests advance time instead of sleeping.
using CacheClock = std::function<CacheTimePoint()>;

inline CacheTimePoint SteadyNow() { return std::chrono::steady_clock::now(); }

// A CustomerCache made of independent stores (LruStore, LfuStore), each behind its own mutex,
// so the node's worker threads contend only when their ids land in the same shard. The
// capacity is split evenly across shards, which makes the policy per shard rather than global:
// with 16 shards, an LRU victim is the least recent entry of its shard, not of the whole cache.
// With a single shard the policy is exact. Shards also sit behind a capacity below one
// entry per shard (see SetCapacity).
template <class Store>
class ShardedCache final : public CustomerCache {
 public:
  ShardedCache(size_t capacity, std::chrono::milliseconds ttl, size_t shard_count,
               CacheClock clock = SteadyNow)
      : ttl_(ttl),
        clock_(std::move(clock)),
        shard_count_(shard_count == 0 ? 1 : shard_count),
        shards_(std::make_unique<Shard[]>(shard_count_)),
        active_shards_(shard_count_) {
    SetCapacity(capacity);
  }

  std::optional<std::string> Get(int64_t id) override {
    CacheTimePoint now = ttl_.count() > 0 ? clock_() : kNoTime;
    return WithStoreOf(id, [&](Store& store) { return store.Get(id, now); });
  }

  void Put(int64_t id, std::string json) override {
    CacheTimePoint expires_at = ttl_.count() > 0 ? clock_() + ttl_ : kNeverExpires;
    WithStoreOf(id, [&](Store& store) { store.Put(id, std::move(json), expires_at); });
  }

  void Invalidate(int64_t id) override {
    WithStoreOf(id, [&](Store& store) { store.Erase(id); });
  }

  // Below one entry per shard, an even split would leave shards of capacity 0 whose ids could
  // never be cached, so the cache falls back to shard 0 alone. Changing the number of active
  // shards moves ids to other shards; entries that would become unreachable are evicted
  // (counted) rather than left to be found stale after a later switch back.
  void SetCapacity(size_t entries) override {
    std::lock_guard resize_lock(resize_mutex_);
    capacity_ = entries;
    size_t active = entries < shard_count_ ? 1 : shard_count_;
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(shard_count_);
    for (size_t i = 0; i < shard_count_; ++i) locks.emplace_back(shards_[i].mutex);
    if (active != active_shards_.load(std::memory_order_relaxed)) {
      // Going down to one shard, shard 0's ids still map to shard 0; going up, none are sure to.
      for (size_t i = active == 1 ? 1 : 0; i < shard_count_; ++i) shards_[i].store.SetCapacity(0);
      active_shards_.store(active, std::memory_order_relaxed);
    }
    for (size_t i = 0; i < shard_count_; ++i) {
      // The remainder goes to the first shards so the shard capacities sum to `entries`.
      size_t share = i >= active ? 0 : entries / active + (i < entries % active ? 1 : 0);
      shards_[i].store.SetCapacity(share);
    }
  }

  size_t capacity() const override {
    std::lock_guard resize_lock(resize_mutex_);
    return capacity_;
  }

  CacheStats Stats() const override {
    CacheStats stats;
    stats.capacity = capacity();
    for (size_t i = 0; i < shard_count_; ++i) {
      std::lock_guard lock(shards_[i].mutex);
      const StoreCounters& counters = shards_[i].store.counters();
      stats.hits += counters.hits;
      stats.misses += counters.misses;
      stats.evictions += counters.evictions;
      stats.size += shards_[i].store.size();
    }
    return stats;
  }

  size_t shard_count() const { return shard_count_; }

 private:
  // Aligned to a cache line so two shards' mutexes never share one (false sharing would
  // bring back the contention that sharding removes).
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    Store store;
  };

  // Runs `use` on the store that owns `id`, under that shard's lock. The number of active
  // shards only changes while every shard lock is held, so re-reading it under the lock
  // tells whether the shard picked before locking is still the owner.
  template <class Use>
  decltype(auto) WithStoreOf(int64_t id, Use&& use) {
    for (;;) {
      size_t active = active_shards_.load(std::memory_order_relaxed);
      Shard& shard = shards_[ShardIndex(id, active)];
      std::lock_guard lock(shard.mutex);
      if (active_shards_.load(std::memory_order_relaxed) == active) return use(shard.store);
    }
  }

  static size_t ShardIndex(int64_t id, size_t active) {
    if (active == 1) return 0;
    // Customer ids are dense and sequential; a multiplicative hash spreads neighbours over
    // shards instead of striping them.
    uint64_t mixed = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull;
    return (mixed >> 32) % active;
  }

  const std::chrono::milliseconds ttl_;
  const CacheClock clock_;
  const size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<size_t> active_shards_;
  mutable std::mutex resize_mutex_;
  size_t capacity_ = 0;
};

}  // namespace crmscope::crm
