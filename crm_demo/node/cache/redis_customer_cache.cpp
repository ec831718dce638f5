#include "crm_demo/node/cache/redis_customer_cache.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <cstring>
#include <utility>

namespace crmscope::crm {
namespace {

// Loopback Redis answers in well under a millisecond; these bound how long a stalled or dead
// server can hold a request before the cache gives up and the node reads the database.
constexpr std::chrono::milliseconds kConnectTimeout{200};
constexpr std::chrono::milliseconds kCommandTimeout{200};
constexpr std::chrono::milliseconds kReconnectBackoff{250};
// More idle connections than the node has workers would only hold server file descriptors.
constexpr size_t kMaxIdleConnections = 32;

constexpr std::string_view kKeyPrefix = "crm:customer:";

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// Fixed buffer: the key is built on every request and never needs the heap.
struct CustomerKey {
  explicit CustomerKey(int64_t id) {
    std::memcpy(bytes, kKeyPrefix.data(), kKeyPrefix.size());
    char* end = std::to_chars(bytes + kKeyPrefix.size(), bytes + sizeof(bytes), id).ptr;
    length = static_cast<size_t>(end - bytes);
  }
  std::string_view view() const { return {bytes, length}; }
  char bytes[40];
  size_t length;
};

// INFO answers "field:value\r\n" lines; returns the unsigned value of `field` if present.
std::optional<uint64_t> InfoField(std::string_view info, std::string_view field) {
  size_t at = 0;
  while (at < info.size()) {
    size_t end = info.find("\r\n", at);
    if (end == std::string_view::npos) end = info.size();
    std::string_view line = info.substr(at, end - at);
    if (line.size() > field.size() && line.starts_with(field) && line[field.size()] == ':') {
      uint64_t value = 0;
      std::string_view digits = line.substr(field.size() + 1);
      auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (result.ec == std::errc()) return value;
      return std::nullopt;
    }
    at = end + 2;
  }
  return std::nullopt;
}

}  // namespace

std::optional<RedisEndpoint> ParseRedisUrl(std::string_view url, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<RedisEndpoint> {
    if (error != nullptr) *error = "invalid redis url \"" + std::string(url) + "\": " + why;
    return std::nullopt;
  };
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return fail("expected redis://host[:port]");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  RedisEndpoint endpoint;
  size_t colon = rest.rfind(':');
  std::string_view host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  if (host.empty()) return fail("missing host");
  if (host.find_first_of("/@") != std::string_view::npos)
    return fail("paths and credentials are not supported");
  endpoint.host = std::string(host);
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    auto result = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (result.ec != std::errc() || result.ptr != port.data() + port.size() || endpoint.port <= 0 ||
        endpoint.port > 65535) {
      return fail("bad port");
    }
  }
  return endpoint;
}

void RedisCustomerCache::ContextFree::operator()(redisContext* context) const {
  redisFree(context);
}
void RedisCustomerCache::ReplyFree::operator()(redisReply* reply) const { freeReplyObject(reply); }

RedisCustomerCache::RedisCustomerCache(ConstructionKey, const RedisEndpoint& endpoint,
                                       size_t capacity, std::chrono::milliseconds ttl)
    : endpoint_(endpoint),
      ttl_ms_(ttl.count() > 0 ? std::to_string(ttl.count()) : std::string()),
      capacity_(capacity) {}

RedisCustomerCache::~RedisCustomerCache() = default;

std::unique_ptr<RedisCustomerCache> RedisCustomerCache::Connect(const RedisEndpoint& endpoint,
                                                                size_t capacity,
                                                                std::chrono::milliseconds ttl,
                                                                std::string* error) {
  auto cache = std::make_unique<RedisCustomerCache>(ConstructionKey(), endpoint, capacity, ttl);
  std::string why;
  Connection connection = cache->Open(&why);
  if (connection == nullptr) {
    if (error != nullptr) *error = why;
    return nullptr;
  }
  Reply pong(static_cast<redisReply*>(redisCommand(connection.get(), "PING")));
  if (pong == nullptr || pong->type != REDIS_REPLY_STATUS) {
    if (error != nullptr) {
      *error = "redis at " + endpoint.host + ":" + std::to_string(endpoint.port) +
               " did not answer PING";
    }
    return nullptr;
  }
  cache->Release(std::move(connection));
  return cache;
}

std::optional<std::string> RedisCustomerCache::Get(int64_t id) {
  CustomerKey key(id);
  Reply reply = Run({"GET", key.view()});
  if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return std::string(reply->str, reply->len);
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void RedisCustomerCache::Put(int64_t id, std::string json) {
  CustomerKey key(id);
  if (ttl_ms_.empty()) {
    Run({"SET", key.view(), json});
  } else {
    Run({"SET", key.view(), json, "PX", ttl_ms_});
  }
}

void RedisCustomerCache::Invalidate(int64_t id) {
  CustomerKey key(id);
  Run({"DEL", key.view()});
}

CacheStats RedisCustomerCache::Stats() const {
  if (Reply keys = Run({"DBSIZE"}); keys != nullptr && keys->type == REDIS_REPLY_INTEGER) {
    server_keys_.store(static_cast<uint64_t>(keys->integer));
  }
  if (Reply info = Run({"INFO", "stats"}); info != nullptr && info->type == REDIS_REPLY_STRING) {
    if (auto evicted = InfoField({info->str, info->len}, "evicted_keys"))
      server_evictions_.store(*evicted);
  }
  CacheStats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.evictions = server_evictions_.load();
  stats.size = server_keys_.load();
  stats.capacity = capacity_.load();
  return stats;
}

RedisCustomerCache::Reply RedisCustomerCache::Run(
    std::initializer_list<std::string_view> args) const {
  constexpr size_t kMaxArgs = 8;
  const char* argv[kMaxArgs];
  size_t lengths[kMaxArgs];
  int argc = 0;
  for (std::string_view arg : args) {
    if (static_cast<size_t>(argc) == kMaxArgs) return nullptr;
    argv[argc] = arg.data();
    lengths[argc] = arg.size();
    ++argc;
  }
  return Run(argc, argv, lengths);
}

RedisCustomerCache::Reply RedisCustomerCache::Run(int argc, const char** argv,
                                                  const size_t* lengths) const {
  // A pooled connection may have died with a restarted server; one retry on a fresh
  // connection makes a restart cost no misses beyond the request that found out.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool pooled = false;
    Connection connection = Acquire(&pooled);
    if (connection == nullptr) return nullptr;
    Reply reply(static_cast<redisReply*>(redisCommandArgv(connection.get(), argc, argv, lengths)));
    if (reply != nullptr && connection->err == 0) {
      Release(std::move(connection));
      return reply;
    }
    DropIdleConnections();
    if (!pooled) return nullptr;
  }
  return nullptr;
}

RedisCustomerCache::Connection RedisCustomerCache::Acquire(bool* pooled) const {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      Connection connection = std::move(idle_.back());
      idle_.pop_back();
      *pooled = true;
      return connection;
    }
    if (std::chrono::steady_clock::now() < next_connect_attempt_) return nullptr;
  }
  *pooled = false;
  Connection connection = Open(nullptr);
  if (connection == nullptr) {
    std::lock_guard lock(pool_mutex_);
    next_connect_attempt_ = std::chrono::steady_clock::now() + kReconnectBackoff;
  }
  return connection;
}

void RedisCustomerCache::Release(Connection connection) const {
  std::lock_guard lock(pool_mutex_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(connection));
}

void RedisCustomerCache::DropIdleConnections() const {
  std::vector<Connection> stale;
  {
    std::lock_guard lock(pool_mutex_);
    stale.swap(idle_);
  }
}

RedisCustomerCache::Connection RedisCustomerCache::Open(std::string* error) const {
  Connection connection(
      redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, ToTimeval(kConnectTimeout)));
  if (connection == nullptr || connection->err != 0) {
    if (error != nullptr) {
      *error =
          "cannot connect to redis at " + endpoint_.host + ":" + std::to_string(endpoint_.port) +
          ": " +
          (connection == nullptr ? std::string("out of memory") : std::string(connection->errstr));
    }
    return nullptr;
  }
  if (redisSetTimeout(connection.get(), ToTimeval(kCommandTimeout)) != REDIS_OK) {
    if (error != nullptr) *error = "cannot set the redis command timeout";
    return nullptr;
  }
  return connection;
}

}  // namespace crmscope::crm
