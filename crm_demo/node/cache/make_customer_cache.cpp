#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/cache/lfu_store.h"
#include "crm_demo/node/cache/lru_store.h"
#include "crm_demo/node/cache/redis_customer_cache.h"
#include "crm_demo/node/cache/sharded_cache.h"

namespace crmscope::crm {
namespace {

// One shard per worker thread of the node (16), so workers rarely meet on a mutex;
// bench/cache/cache_bench compares this against a single shard.
constexpr size_t kShardCount = 16;

}  // namespace

std::unique_ptr<CustomerCache> MakeCustomerCache(const std::string& spec, size_t capacity,
                                                 std::chrono::milliseconds ttl,
                                                 std::string* error) {
  if (ttl.count() < 0) {
    if (error != nullptr) *error = "cache ttl must not be negative";
    return nullptr;
  }
  if (spec == "lru") return std::make_unique<ShardedCache<LruStore>>(capacity, ttl, kShardCount);
  if (spec == "lfu") return std::make_unique<ShardedCache<LfuStore>>(capacity, ttl, kShardCount);
  if (spec.starts_with("redis://")) {
    std::optional<RedisEndpoint> endpoint = ParseRedisUrl(spec, error);
    if (!endpoint) return nullptr;
    return RedisCustomerCache::Connect(*endpoint, capacity, ttl, error);
  }
  if (error != nullptr)
    *error = "unknown cache \"" + spec + "\": expected lru, lfu or redis://host:port";
  return nullptr;
}

}  // namespace crmscope::crm
