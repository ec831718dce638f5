#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm_demo/node/cache/customer_cache.h"

struct redisContext;
struct redisReply;

namespace crmscope::crm {

struct RedisEndpoint {
  std::string host;
  int port = 6379;
};

// Parses "redis://host[:port]"; nullopt and *error for anything else.
std::optional<RedisEndpoint> ParseRedisUrl(std::string_view url, std::string* error);

// Customer documents in a real Redis under `crm:customer:<id>`, written with SET … PX <ttl>
// so Redis expires them itself. Connections come from a small pool behind one mutex (a worker
// holds one only for the duration of a command), so N concurrent workers use at most N.
//
// Failure policy: a broken or refused connection degrades the operation to a miss (Get) or a
// no-op (Put, Invalidate) and never throws; the pool is flushed, since a broken connection
// usually means a restarted server and every idle one is then stale, and new connections are
// attempted at most once per backoff interval so a dead Redis costs the node no connect
// timeouts per request.
//
// Stats: hits and misses are counted here; size is the server's DBSIZE and evictions its
// INFO evicted_keys, which equal the crm:customer:* figures because the node's Redis is
// dedicated to it (the launcher starts one per stack). Capacity is advisory: Redis bounds
// itself by maxmemory, so SetCapacity only records the figure reported in Stats.
class RedisCustomerCache final : public CustomerCache {
  // Private, so Connect is the one way to build a cache while make_unique still works.
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };

 public:
  // nullptr and *error when the first connection or PING fails: a wrong --cache must stop the
  // node at start, not show up later as a 0% hit ratio.
  static std::unique_ptr<RedisCustomerCache> Connect(const RedisEndpoint& endpoint, size_t capacity,
                                                     std::chrono::milliseconds ttl,
                                                     std::string* error);
  RedisCustomerCache(ConstructionKey, const RedisEndpoint& endpoint, size_t capacity,
                     std::chrono::milliseconds ttl);
  ~RedisCustomerCache() override;

  std::optional<std::string> Get(int64_t id) override;
  void Put(int64_t id, std::string json) override;
  void Invalidate(int64_t id) override;
  void SetCapacity(size_t entries) override { capacity_.store(entries); }
  size_t capacity() const override { return capacity_.load(); }
  CacheStats Stats() const override;

 private:
  struct ContextFree {
    void operator()(redisContext* context) const;
  };
  struct ReplyFree {
    void operator()(redisReply* reply) const;
  };
  using Connection = std::unique_ptr<redisContext, ContextFree>;
  using Reply = std::unique_ptr<redisReply, ReplyFree>;

  // The reply of one command, or nullptr when no healthy connection could run it.
  Reply Run(int argc, const char** argv, const size_t* lengths) const;
  Reply Run(std::initializer_list<std::string_view> args) const;
  Connection Acquire(bool* pooled) const;
  void Release(Connection connection) const;
  void DropIdleConnections() const;
  Connection Open(std::string* error) const;

  const RedisEndpoint endpoint_;
  const std::string ttl_ms_;  // empty: no expiry
  std::atomic<size_t> capacity_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  // Last figures read from the server, reported while it is unreachable.
  mutable std::atomic<uint64_t> server_keys_{0};
  mutable std::atomic<uint64_t> server_evictions_{0};

  mutable std::mutex pool_mutex_;
  mutable std::vector<Connection> idle_;
  mutable std::chrono::steady_clock::time_point next_connect_attempt_{};
};

}  // namespace crmscope::crm
