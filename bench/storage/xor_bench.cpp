// Encode and decode throughput of the XOR chunk, in samples per second, over full 120-sample
// chunks of two shapes: a scraped counter (15s with ms jitter) and a noisy gauge.
// Usage: xor_bench [chunks per shape, default 20000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "collector/storage/chunk.h"
#include "collector/storage/xor_chunk.h"

namespace {

using crmscope::Sample;
using crmscope::TimestampMs;
using crmscope::storage::kSamplesPerChunk;
using crmscope::storage::XorChunk;
using crmscope::storage::XorIterator;

std::vector<Sample> MakeSeries(int n, bool counter, std::mt19937_64& rng) {
  std::vector<Sample> out;
  out.reserve(static_cast<size_t>(n));
  double v = 1000;
  for (int i = 0; i < n; ++i) {
    const TimestampMs jitter = static_cast<TimestampMs>(rng() % 11) - 5;
    v = counter ? v + static_cast<double>(rng() % 8) : static_cast<double>(rng() % 100000) / 1000;
    out.push_back({1'700'000'000'000 + 15'000 * i + jitter, v});
  }
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Run(const char* shape, bool counter, int chunks) {
  std::mt19937_64 rng(42);
  const std::vector<Sample> series = MakeSeries(chunks * kSamplesPerChunk, counter, rng);
  std::vector<XorChunk> encoded(static_cast<size_t>(chunks));

  auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < chunks; ++c) {
    for (int i = 0; i < kSamplesPerChunk; ++i) {
      const Sample& s = series[static_cast<size_t>(c * kSamplesPerChunk + i)];
      encoded[static_cast<size_t>(c)].Append(s.t, s.v);
    }
  }
  const double encode_s = SecondsSince(start);

  size_t bytes = 0;
  for (const XorChunk& chunk : encoded) bytes += chunk.bytes().size();

  start = std::chrono::steady_clock::now();
  double checksum = 0;
  size_t decoded = 0;
  for (const XorChunk& chunk : encoded) {
    XorIterator it(chunk.bytes());
    while (it.Next()) {
      checksum += it.At().v;
      ++decoded;
    }
  }
  const double decode_s = SecondsSince(start);

  const double samples = static_cast<double>(chunks) * kSamplesPerChunk;
  std::printf(
      "%-8s %9.0f samples  encode %6.1f M samples/s  decode %6.1f M samples/s  "
      "%.2f B/sample  (checksum %.0f, decoded %zu)\n",
      shape, samples, samples / encode_s / 1e6, samples / decode_s / 1e6,
      static_cast<double>(bytes) / samples, checksum, decoded);
}

}  // namespace

int main(int argc, char** argv) {
  const int chunks = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (chunks <= 0) {
    std::fprintf(stderr, "usage: %s [chunks per shape > 0]\n", argv[0]);
    return 2;
  }
  Run("counter", true, chunks);
  Run("gauge", false, chunks);
  return 0;
}
