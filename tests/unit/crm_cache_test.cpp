// The crm-node customer cache: eviction order of each policy, TTL on an injected clock,
// capacity shrink, stats, a multi-threaded smoke with exact counts, and the Redis backend
// against a real redis-server on a loopback port.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crm_demo/node/cache/customer_cache.h"
#include "crm_demo/node/cache/lfu_store.h"
#include "crm_demo/node/cache/lru_store.h"
#include "crm_demo/node/cache/redis_customer_cache.h"
#include "crm_demo/node/cache/sharded_cache.h"

extern char** environ;

namespace {

namespace crm = crmscope::crm;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using CacheStats = crm::CacheStats;

std::string Doc(int64_t id) {
  return R"({"id":)" + std::to_string(id) + R"(,"name":"Customer )" + std::to_string(id) + "\"}";
}

// Time moves only when the test says so.
struct ManualClock {
  std::atomic<int64_t> now_ms{1'000'000};
  std::atomic<int> reads{0};
  crm::CacheClock Clock() {
    return [this] {
      reads.fetch_add(1);
      return crm::CacheTimePoint(std::chrono::milliseconds(now_ms.load()));
    };
  }
  void Advance(std::chrono::milliseconds by) { now_ms.fetch_add(by.count()); }
};

template <class Store>
std::unique_ptr<crm::CustomerCache> SingleShard(size_t capacity,
                                                std::chrono::milliseconds ttl = 0ms,
                                                crm::CacheClock clock = crm::SteadyNow) {
  return std::make_unique<crm::ShardedCache<Store>>(capacity, ttl, 1, std::move(clock));
}

bool Has(crm::CustomerCache& cache, int64_t id) { return cache.Get(id).has_value(); }

}  // namespace

TEST_CASE("LRU evicts the least recently used entry and reads or rewrites refresh recency") {
  auto cache = SingleShard<crm::LruStore>(3);
  cache->Put(1, Doc(1));
  cache->Put(2, Doc(2));
  cache->Put(3, Doc(3));
  CHECK(cache->Get(1) == Doc(1));  // order, most recent first: 1 3 2
  cache->Put(4, Doc(4));           // evicts 2
  CHECK(cache->Stats().evictions == 1);
  cache->Put(3, R"({"id":3,"v":2})");  // rewrite refreshes: 3 4 1
  cache->Put(5, Doc(5));               // evicts 1
  CHECK(cache->Get(3) == R"({"id":3,"v":2})");
  CHECK(cache->Get(4) == Doc(4));
  CHECK(cache->Get(5) == Doc(5));
  CHECK_FALSE(Has(*cache, 1));
  CHECK_FALSE(Has(*cache, 2));
  CacheStats stats = cache->Stats();
  CHECK(stats.size == 3);
  CHECK(stats.evictions == 2);
}

TEST_CASE("LFU evicts the least used entry and breaks ties by least recent use") {
  auto cache = SingleShard<crm::LfuStore>(3);
  cache->Put(1, Doc(1));
  cache->Put(2, Doc(2));
  cache->Put(3, Doc(3));
  // All at one use; 1 is the oldest, so a plain tie evicts it.
  cache->Put(4, Doc(4));
  CHECK_FALSE(Has(*cache, 1));
  // Uses now: 2→1, 3→1, 4→1 (the failed Get of 1 touched nothing). Raise 2 and 3 to two uses,
  // 3 more recently than 2.
  CHECK(cache->Get(2) == Doc(2));
  CHECK(cache->Get(3) == Doc(3));
  cache->Put(5, Doc(5));  // 4 is the only one-use entry
  CHECK_FALSE(Has(*cache, 4));
  CHECK(cache->Get(5) == Doc(5));  // 2, 3 and 5 all at two uses; 2 is the least recent
  cache->Put(6, Doc(6));
  CHECK_FALSE(Has(*cache, 2));
  // 3 and 5 at two uses, 6 at one: frequency beats recency, so 6 goes although newest.
  cache->Put(7, Doc(7));
  CHECK_FALSE(Has(*cache, 6));
  CHECK(Has(*cache, 3));
  CHECK(Has(*cache, 5));
  CHECK(Has(*cache, 7));
  CHECK(cache->Stats().evictions == 4);
}

TEST_CASE("LFU forgets the use count of an invalidated entry") {
  auto cache = SingleShard<crm::LfuStore>(2);
  cache->Put(1, Doc(1));
  for (int i = 0; i < 5; ++i) CHECK(Has(*cache, 1));
  cache->Put(2, Doc(2));
  CHECK(Has(*cache, 2));  // 2 at two uses
  cache->Invalidate(1);
  CHECK_FALSE(Has(*cache, 1));
  cache->Put(1, Doc(1));  // back at one use, so it is the victim, not 2
  cache->Put(3, Doc(3));
  CHECK_FALSE(Has(*cache, 1));
  CHECK(Has(*cache, 2));
  CHECK(cache->Stats().evictions == 1);
}

TEST_CASE_TEMPLATE("TTL: an expired entry is a removed miss and not an eviction", Store,
                   crm::LruStore, crm::LfuStore) {
  ManualClock clock;
  auto cache = SingleShard<Store>(10, 100ms, clock.Clock());
  cache->Put(1, Doc(1));
  cache->Put(2, Doc(2));
  clock.Advance(99ms);
  CHECK(cache->Get(1) == Doc(1));
  cache->Put(2, Doc(2));  // rewriting restarts 2's TTL
  clock.Advance(1ms);     // exactly 100 ms after 1 was written
  CHECK_FALSE(Has(*cache, 1));
  CHECK(cache->Get(2) == Doc(2));
  CacheStats stats = cache->Stats();
  CHECK(stats.size == 1);
  CHECK(stats.hits == 2);
  CHECK(stats.misses == 1);
  CHECK(stats.evictions == 0);
  clock.Advance(99ms);
  CHECK_FALSE(Has(*cache, 2));
  CHECK(cache->Stats().size == 0);
}

TEST_CASE_TEMPLATE("ttl 0 never expires and never reads the clock", Store, crm::LruStore,
                   crm::LfuStore) {
  ManualClock clock;
  auto cache = SingleShard<Store>(10, 0ms, clock.Clock());
  cache->Put(1, Doc(1));
  clock.Advance(std::chrono::hours(24 * 365));
  CHECK(cache->Get(1) == Doc(1));
  CHECK(clock.reads.load() == 0);
}

TEST_CASE("shrinking the capacity evicts at once and counts every eviction") {
  auto lru = SingleShard<crm::LruStore>(10);
  for (int id = 1; id <= 10; ++id) lru->Put(id, Doc(id));
  lru->SetCapacity(4);
  CacheStats stats = lru->Stats();
  CHECK(stats.size == 4);
  CHECK(stats.evictions == 6);
  CHECK(stats.capacity == 4);
  CHECK(lru->capacity() == 4);
  for (int id = 7; id <= 10; ++id) CHECK(Has(*lru, id));  // the four most recent stay
  lru->SetCapacity(0);
  CHECK(lru->Stats().size == 0);
  lru->Put(1, Doc(1));
  CHECK_FALSE(Has(*lru, 1));
  CHECK(lru->Stats().evictions == 10);

  SUBCASE("sharded: the shard capacities add up to the total") {
    for (const char* policy : {"lru", "lfu"}) {
      CAPTURE(policy);
      auto cache = crm::MakeCustomerCache(policy, 1000, 0ms, nullptr);
      REQUIRE(cache != nullptr);
      // 4000 distinct ids leave every one of the 16 shards full.
      for (int id = 0; id < 4000; ++id) cache->Put(id, Doc(id));
      CHECK(cache->Stats().size == 1000);
      CHECK(cache->Stats().evictions == 3000);
      cache->SetCapacity(100);
      CHECK(cache->Stats().size == 100);
      CHECK(cache->Stats().evictions == 3900);
      cache->SetCapacity(2000);
      for (int id = 0; id < 4000; ++id) cache->Put(id, Doc(id));
      CHECK(cache->Stats().size == 2000);
    }
  }
}

TEST_CASE_TEMPLATE("a capacity below one entry per shard still caches every id", Store,
                   crm::LruStore, crm::LfuStore) {
  crm::ShardedCache<Store> cache(8, 0ms, 16);
  for (int id = 0; id < 8; ++id) cache.Put(id, Doc(id));
  for (int id = 0; id < 8; ++id) CHECK(cache.Get(id) == Doc(id));
  CHECK(cache.Stats().size == 8);
  cache.Put(8, Doc(8));  // the bound holds across the whole cache
  CHECK(cache.Stats().size == 8);
  CHECK(cache.Stats().evictions == 1);

  // Up to 16 shards and down again: ids move between shards, and whatever stays cached must
  // be found where it now belongs and hold its own document.
  cache.SetCapacity(1600);
  for (int id = 0; id < 3200; ++id) cache.Put(id, Doc(id));
  CHECK(cache.Stats().size == 1600);
  cache.SetCapacity(5);
  CacheStats stats = cache.Stats();
  CHECK(stats.size == 5);
  CHECK(stats.size + stats.evictions == 8 + 1 + 3200);
  int found = 0;
  for (int id = 0; id < 3200; ++id) {
    std::optional<std::string> doc = cache.Get(id);
    if (doc) ++found;
    if (doc) CHECK(*doc == Doc(id));
  }
  CHECK(found == 5);
}

TEST_CASE("stats count hits and misses and evictions and size and capacity exactly") {
  auto cache = SingleShard<crm::LruStore>(2);
  CHECK_FALSE(Has(*cache, 1));
  cache->Put(1, Doc(1));
  cache->Put(2, Doc(2));
  CHECK(Has(*cache, 1));
  CHECK(Has(*cache, 2));
  CHECK(Has(*cache, 2));
  cache->Put(3, Doc(3));  // evicts 1
  CHECK_FALSE(Has(*cache, 1));
  cache->Invalidate(2);  // an invalidation is neither a miss nor an eviction
  cache->Invalidate(99);
  CacheStats stats = cache->Stats();
  CHECK(stats.hits == 3);
  CHECK(stats.misses == 2);
  CHECK(stats.evictions == 1);
  CHECK(stats.size == 1);
  CHECK(stats.capacity == 2);
}

TEST_CASE("the factory builds each policy and rejects bad specs") {
  std::string error;
  for (const char* policy : {"lru", "lfu"}) {
    auto cache = crm::MakeCustomerCache(policy, 8, 0ms, &error);
    REQUIRE(cache != nullptr);
    cache->Put(5, Doc(5));
    CHECK(cache->Get(5) == Doc(5));
    CHECK(cache->capacity() == 8);
  }
  CHECK(crm::MakeCustomerCache("arc", 8, 0ms, &error) == nullptr);
  CHECK(error.find("unknown cache \"arc\"") != std::string::npos);
  CHECK(crm::MakeCustomerCache("lru", 8, -1ms, &error) == nullptr);
  CHECK(crm::MakeCustomerCache("redis://127.0.0.1:notaport", 8, 0ms, &error) == nullptr);
  CHECK(error.find("bad port") != std::string::npos);

  auto endpoint = crm::ParseRedisUrl("redis://127.0.0.1:6390", &error);
  REQUIRE(endpoint.has_value());
  CHECK(endpoint->host == "127.0.0.1");
  CHECK(endpoint->port == 6390);
  endpoint = crm::ParseRedisUrl("redis://localhost", &error);
  REQUIRE(endpoint.has_value());
  CHECK(endpoint->port == 6379);
  CHECK_FALSE(crm::ParseRedisUrl("redis://:6379", &error).has_value());
  CHECK_FALSE(crm::ParseRedisUrl("redis://h:70000", &error).has_value());
  CHECK_FALSE(crm::ParseRedisUrl("http://h:1", &error).has_value());
}

TEST_CASE_TEMPLATE("16 threads: every hit is the right document and the counts add up", Store,
                   crm::LruStore, crm::LfuStore) {
  constexpr int kThreads = 16;
  constexpr int kKeysPerThread = 2000;
  constexpr size_t kCapacity = 1000;
  crm::ShardedCache<Store> cache(kCapacity, 0ms, 16);
  std::atomic<uint64_t> gets{0}, hits{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t);
      std::uniform_int_distribution<int64_t> any_key(0, int64_t{kThreads} * kKeysPerThread - 1);
      for (int i = 0; i < kKeysPerThread; ++i) {
        int64_t own = int64_t{t} * kKeysPerThread + i;  // every id is put exactly once
        cache.Put(own, Doc(own));
        for (int r = 0; r < 4; ++r) {
          int64_t id = r == 0 ? own : any_key(random);
          std::optional<std::string> doc = cache.Get(id);
          gets.fetch_add(1);
          if (doc) {
            hits.fetch_add(1);
            if (*doc != Doc(id)) wrong.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CacheStats stats = cache.Stats();
  CHECK(wrong.load() == 0);
  CHECK(stats.hits == hits.load());
  CHECK(stats.hits + stats.misses == gets.load());
  CHECK(stats.hits > 0);
  // Each id was put once and nothing was invalidated or expired, so each put is either still
  // cached or was evicted.
  CHECK(stats.size + stats.evictions == uint64_t{kThreads} * kKeysPerThread);
  CHECK(stats.size == kCapacity);
}

namespace {

// A port the kernel just handed out on loopback; redis-server binds it right after. Another
// process could take it in between, so callers retry on a fresh port if the server never
// becomes ready.
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  REQUIRE(ok);
  return ntohs(address.sin_port);
}

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Context ConnectTo(int port) {
  Context context(redisConnectWithTimeout("127.0.0.1", port, timeval{0, 200'000}));
  if (context == nullptr || context->err != 0) return nullptr;
  return context;
}

Reply Command(redisContext* context, const char* command, const std::string& key) {
  return Reply(static_cast<redisReply*>(redisCommand(context, command, key.c_str())));
}

// A throwaway redis-server with no persistence, stopped (and reaped) by the destructor.
class RedisServer {
 public:
  explicit RedisServer(int port) : port_(port) { Start(); }
  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  void Start() {
    std::string port = std::to_string(port_);
    std::vector<std::string> args = {
        "redis-server", "--port", port,          "--bind", "127.0.0.1",  "--save", "",
        "--appendonly", "no",     "--daemonize", "no",     "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE_MESSAGE(rc == 0, "cannot start redis-server (scripts/setup.sh installs it)");
  }

  // Polls PING until PONG or the deadline; false also when the server exited (port taken).
  bool WaitReady(std::chrono::milliseconds within = 10s) {
    auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (Context context = ConnectTo(port_)) {
        Reply pong(static_cast<redisReply*>(redisCommand(context.get(), "PING")));
        if (pong != nullptr && pong->type == REDIS_REPLY_STATUS) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

std::unique_ptr<RedisServer> StartRedis() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto server = std::make_unique<RedisServer>(FreeLoopbackPort());
    if (server->WaitReady()) return server;
  }
  FAIL("redis-server did not become ready on any of 3 loopback ports");
  return nullptr;
}

// Polls `done` until true or the deadline.
template <class Predicate>
bool Eventually(Predicate done, std::chrono::milliseconds within = 10s) {
  auto deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

}  // namespace

TEST_CASE("Redis: get and put and invalidate under crm:customer:<id> with local hit counts") {
  auto server = StartRedis();
  std::string error;
  auto cache = crm::MakeCustomerCache(server->url(), 5000, 0ms, &error);
  REQUIRE_MESSAGE(cache != nullptr, error);
  Context inspect = ConnectTo(server->port());
  REQUIRE(inspect != nullptr);

  CHECK_FALSE(Has(*cache, 42));
  cache->Put(42, Doc(42));
  cache->Put(43, Doc(43));
  cache->Put(44, Doc(44));
  CHECK(cache->Get(42) == Doc(42));
  Reply raw = Command(inspect.get(), "GET %s", "crm:customer:42");
  REQUIRE(raw != nullptr);
  REQUIRE(raw->type == REDIS_REPLY_STRING);
  CHECK(std::string(raw->str, raw->len) == Doc(42));
  Reply ttl = Command(inspect.get(), "PTTL %s", "crm:customer:42");
  REQUIRE(ttl != nullptr);
  CHECK(ttl->integer == -1);  // no TTL asked, none set

  cache->Invalidate(42);
  CHECK_FALSE(Has(*cache, 42));
  Reply gone = Command(inspect.get(), "EXISTS %s", "crm:customer:42");
  REQUIRE(gone != nullptr);
  CHECK(gone->integer == 0);

  CacheStats stats = cache->Stats();
  CHECK(stats.hits == 1);
  CHECK(stats.misses == 2);
  CHECK(stats.size == 2);  // the server's own key count
  CHECK(stats.capacity == 5000);
  cache->SetCapacity(10);  // advisory: recorded, nothing removed
  CHECK(cache->capacity() == 10);
  CHECK(cache->Stats().size == 2);
}

TEST_CASE("Redis: entries carry a PX TTL and expire in the server") {
  auto server = StartRedis();
  std::string error;
  auto cache = crm::MakeCustomerCache(server->url(), 100, 1000ms, &error);
  REQUIRE_MESSAGE(cache != nullptr, error);
  Context inspect = ConnectTo(server->port());
  REQUIRE(inspect != nullptr);

  auto written = Clock::now();
  cache->Put(7, Doc(7));
  Reply ttl = Command(inspect.get(), "PTTL %s", "crm:customer:7");
  REQUIRE(ttl != nullptr);
  CHECK(ttl->integer > 0);
  CHECK(ttl->integer <= 1000);
  CHECK(Eventually([&] { return !Has(*cache, 7); }));
  CHECK(Clock::now() - written >= 900ms);  // expired by the TTL, not lost early
}

TEST_CASE("Redis: a dead server degrades to misses and a restarted one is used again") {
  auto server = StartRedis();
  std::string error;
  auto cache = crm::MakeCustomerCache(server->url(), 100, 0ms, &error);
  REQUIRE_MESSAGE(cache != nullptr, error);
  cache->Put(1, Doc(1));
  REQUIRE(Has(*cache, 1));

  server->Stop();
  auto before = Clock::now();
  CHECK_FALSE(Has(*cache, 1));
  cache->Put(2, Doc(2));
  cache->Invalidate(2);
  CacheStats stats = cache->Stats();
  CHECK(Clock::now() - before < 2s);  // bounded by connect timeouts and the reconnect backoff
  CHECK(stats.hits == 1);
  CHECK(stats.misses == 1);

  server->Start();
  REQUIRE(server->WaitReady());
  CHECK(Eventually([&] {
    cache->Put(3, Doc(3));
    return cache->Get(3) == Doc(3);
  }));
}

TEST_CASE("Redis: a refused connection at start is an error and not a cache") {
  std::string error;
  int port = FreeLoopbackPort();  // nothing listens there
  auto cache =
      crm::MakeCustomerCache("redis://127.0.0.1:" + std::to_string(port), 100, 0ms, &error);
  CHECK(cache == nullptr);
  CHECK(error.find("cannot connect to redis") != std::string::npos);
}

TEST_CASE("Redis: concurrent workers share the pool and the counts add up") {
  auto server = StartRedis();
  std::string error;
  auto cache = crm::MakeCustomerCache(server->url(), 100, 0ms, &error);
  REQUIRE_MESSAGE(cache != nullptr, error);
  constexpr int kThreads = 8;
  constexpr int kOps = 200;
  std::atomic<uint64_t> hits{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        int64_t id = int64_t{t} * kOps + i;
        cache->Put(id, Doc(id));
        std::optional<std::string> doc = cache->Get(id);
        if (doc) hits.fetch_add(1);
        if (doc && *doc != Doc(id)) wrong.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CacheStats stats = cache->Stats();
  CHECK(wrong.load() == 0);
  CHECK(hits.load() == uint64_t{kThreads} * kOps);
  CHECK(stats.hits == uint64_t{kThreads} * kOps);
  CHECK(stats.misses == 0);
  CHECK(stats.size == uint64_t{kThreads} * kOps);
}
