#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace crmscope::crm {

// Counters since construction; size/capacity are a snapshot. For Redis, size is the server's
// count of crm:customer:* keys and capacity is advisory (Redis evicts by its own maxmemory).
struct CacheStats {
  uint64_t hits = 0, misses = 0, evictions = 0, size = 0, capacity = 0;
};

// Cache-aside store of customer JSON documents by id: the node reads here first, fills on a
// miss from the database, and invalidates on every write. Thread-safe. Never throws on a
// backend failure: an unreachable Redis degrades to misses and dropped puts.
class CustomerCache {
 public:
  virtual ~CustomerCache() = default;
  virtual std::optional<std::string> Get(int64_t id) = 0;
  virtual void Put(int64_t id, std::string json) = 0;
  virtual void Invalidate(int64_t id) = 0;
  // Shrinking evicts down to the new bound at once (counted as evictions), so a
  // cache_capacity fault shows up in the eviction counter immediately.
  virtual void SetCapacity(size_t entries) = 0;
  virtual size_t capacity() const = 0;
  virtual CacheStats Stats() const = 0;
};

// spec: "lru", "lfu" or "redis://host:port". ttl 0 means entries never expire.
// Returns nullptr and sets *error (if given) for an unknown spec or an unreachable Redis.
std::unique_ptr<CustomerCache> MakeCustomerCache(
    const std::string& spec /* "lru", "lfu", "redis://127.0.0.1:6379" */, size_t capacity,
    std::chrono::milliseconds ttl /* 0 = none */, std::string* error);

}  // namespace crmscope::crm
