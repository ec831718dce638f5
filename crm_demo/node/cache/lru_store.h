#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "crm_demo/node/cache/intrusive_list.h"
#include "crm_demo/node/cache/store_counters.h"

namespace crmscope::crm {

// Least-recently-used store bounded by entry count; every operation is O(1).
// Not thread-safe: ShardedCache puts one behind each shard's mutex.
class LruStore {
 public:
  explicit LruStore(size_t capacity = 0) : capacity_(capacity) {}
  LruStore(const LruStore&) = delete;
  LruStore& operator=(const LruStore&) = delete;

  // A hit refreshes recency; an entry expired at `now` is removed and counts as a miss.
  std::optional<std::string> Get(int64_t id, CacheTimePoint now);
  // Replaces an existing entry (refreshing recency and expiry) or inserts, evicting the least
  // recently used entry when full. A capacity of 0 stores nothing.
  void Put(int64_t id, std::string json, CacheTimePoint expires_at);
  void Erase(int64_t id);
  void SetCapacity(size_t entries);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }
  const StoreCounters& counters() const { return counters_; }

 private:
  struct Entry {
    Entry* prev = nullptr;
    Entry* next = nullptr;
    int64_t id = 0;
    std::string json;
    CacheTimePoint expires_at = kNeverExpires;
  };

  void EvictLeastRecent();

  size_t capacity_;
  std::unordered_map<int64_t, Entry> entries_;
  IntrusiveList<Entry> recency_;  // front: most recently used
  StoreCounters counters_;
};

}  // namespace crmscope::crm
