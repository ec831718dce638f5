#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "crm_demo/node/cache/intrusive_list.h"
#include "crm_demo/node/cache/store_counters.h"

namespace crmscope::crm {

// Least-frequently-used store bounded by entry count, O(1) per operation (the frequency-bucket
// scheme of Shah, Mitra and Matani, 2010): buckets of equal use count in ascending order, each
// holding its entries in recency order, so the victim is the least recently used entry of the
// lowest bucket. Not thread-safe: ShardedCache puts one behind each shard's mutex.
class LfuStore {
 public:
  explicit LfuStore(size_t capacity = 0) : capacity_(capacity) {}
  LfuStore(const LfuStore&) = delete;
  LfuStore& operator=(const LfuStore&) = delete;

  // A hit counts one use; an entry expired at `now` is removed and counts as a miss.
  std::optional<std::string> Get(int64_t id, CacheTimePoint now);
  // Replacing an entry counts one use and refreshes its expiry; a new entry starts at one use.
  // A capacity of 0 stores nothing.
  void Put(int64_t id, std::string json, CacheTimePoint expires_at);
  // Forgets the entry and its use count: a re-read after a write starts again at one use.
  void Erase(int64_t id);
  void SetCapacity(size_t entries);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }
  const StoreCounters& counters() const { return counters_; }

 private:
  struct Entry;
  struct Bucket {
    uint64_t uses = 0;
    IntrusiveList<Entry> entries;  // front: most recently used
  };
  using BucketIt = std::list<Bucket>::iterator;
  struct Entry {
    Entry* prev = nullptr;
    Entry* next = nullptr;
    int64_t id = 0;
    std::string json;
    CacheTimePoint expires_at = kNeverExpires;
    BucketIt bucket;
  };

  void CountUse(Entry* entry);
  void Unlink(Entry* entry);
  void EvictOne();
  // Spliced from spare_buckets_ when possible so steady-state use counting does not allocate.
  BucketIt NewBucketBefore(BucketIt position, uint64_t uses);
  void RecycleBucket(BucketIt bucket);

  size_t capacity_;
  std::unordered_map<int64_t, Entry> entries_;
  std::list<Bucket> buckets_;  // ascending use count, none empty
  std::list<Bucket> spare_buckets_;
  StoreCounters counters_;
};

}  // namespace crmscope::crm
