// Throughput of the in-process customer caches under many worker threads: one mutex (1 shard)
// against the 16 shards crm-node uses. Run by hand, not by CI:
//   cache_bench [--seconds 1] [--rounds 5] [--threads 1,4,16] [--keys 100000] [--capacity 10000]
//               [--skew 0.99]
// Each thread replays a pre-drawn Zipf sequence of customer ids as cache-aside reads (Get, and
// Put on a miss), so the timed loop holds only cache work. Single and sharded runs alternate
// and the median of the rounds is printed, because on a shared build machine the load of
// other processes drifts by more than the difference being measured.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crm_demo/node/cache/lfu_store.h"
#include "crm_demo/node/cache/lru_store.h"
#include "crm_demo/node/cache/sharded_cache.h"

namespace {

using namespace crmscope::crm;
using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 1.0;
  int rounds = 5;
  std::vector<int> threads = {1, 4, 16};
  int64_t keys = 100000;
  size_t capacity = 10000;
  double skew = 0.99;
};

std::vector<int> ParseList(const char* text) {
  std::vector<int> values;
  const char* at = text;
  while (*at != '\0') {
    char* end = nullptr;
    long value = std::strtol(at, &end, 10);
    if (end == at) break;
    values.push_back(static_cast<int>(value));
    at = *end == ',' ? end + 1 : end;
  }
  return values;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--seconds")
      options.seconds = std::atof(value);
    else if (flag == "--rounds")
      options.rounds = std::max(1, std::atoi(value));
    else if (flag == "--threads")
      options.threads = ParseList(value);
    else if (flag == "--keys")
      options.keys = std::atoll(value);
    else if (flag == "--capacity")
      options.capacity = static_cast<size_t>(std::atoll(value));
    else if (flag == "--skew")
      options.skew = std::atof(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return options;
}

// Zipf over [0, keys) by inverse CDF; drawn before timing starts.
std::vector<int64_t> ZipfSequence(int64_t keys, double skew, size_t length, uint64_t seed) {
  std::vector<double> cdf(static_cast<size_t>(keys));
  double sum = 0;
  for (int64_t k = 0; k < keys; ++k)
    cdf[static_cast<size_t>(k)] = sum += 1.0 / std::pow(double(k + 1), skew);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0, sum);
  std::vector<int64_t> sequence(length);
  for (auto& id : sequence) {
    id = std::lower_bound(cdf.begin(), cdf.end(), uniform(random)) - cdf.begin();
  }
  return sequence;
}

struct Result {
  double ops_per_second;
  double hit_ratio;
};

template <class Store>
Result Run(size_t shards, int threads, const Options& options,
           const std::vector<std::vector<int64_t>>& ids) {
  ShardedCache<Store> cache(options.capacity, std::chrono::milliseconds(0), shards);
  // A customer document of the size crm-node serves (about 150 bytes).
  const std::string document(150, 'x');
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total_ops{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::vector<int64_t>& sequence = ids[static_cast<size_t>(t)];
      uint64_t ops = 0;
      size_t at = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int batch = 0; batch < 256; ++batch) {
          int64_t id = sequence[at];
          at = at + 1 == sequence.size() ? 0 : at + 1;
          if (!cache.Get(id)) cache.Put(id, document);
          ++ops;
        }
      }
      total_ops.fetch_add(ops);
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  stop.store(true);
  for (auto& worker : workers) worker.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  CacheStats stats = cache.Stats();
  return {static_cast<double>(total_ops.load()) / elapsed,
          static_cast<double>(stats.hits) / static_cast<double>(stats.hits + stats.misses)};
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

template <class Store>
void Compare(const char* policy, const Options& options,
             const std::vector<std::vector<int64_t>>& ids) {
  for (int threads : options.threads) {
    std::vector<double> single_rates, sharded_rates;
    Result single{}, sharded{};
    for (int round = 0; round < options.rounds; ++round) {
      single = Run<Store>(1, threads, options, ids);
      sharded = Run<Store>(16, threads, options, ids);
      single_rates.push_back(single.ops_per_second);
      sharded_rates.push_back(sharded.ops_per_second);
    }
    double single_rate = Median(single_rates), sharded_rate = Median(sharded_rates);
    std::printf("%-4s %7d %14.0f %14.0f %7.2fx %9.3f %9.3f\n", policy, threads, single_rate,
                sharded_rate, sharded_rate / single_rate, single.hit_ratio, sharded.hit_ratio);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  int max_threads = *std::max_element(options.threads.begin(), options.threads.end());
  std::vector<std::vector<int64_t>> ids;
  for (int t = 0; t < max_threads; ++t) {
    ids.push_back(ZipfSequence(options.keys, options.skew, 1 << 20, static_cast<uint64_t>(t) + 1));
  }
  std::printf(
      "keys %lld, capacity %zu, zipf skew %.2f, median of %d runs of %.1f s, %u hardware threads\n",
      static_cast<long long>(options.keys), options.capacity, options.skew, options.rounds,
      options.seconds, std::thread::hardware_concurrency());
  std::printf("%-4s %7s %14s %14s %8s %9s %9s\n", "", "threads", "1 shard op/s", "16 shards op/s",
              "ratio", "hit 1", "hit 16");
  Compare<LruStore>("lru", options, ids);
  Compare<LfuStore>("lfu", options, ids);
  return 0;
}
