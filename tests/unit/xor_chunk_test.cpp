#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "collector/storage/chunk.h"
#include "collector/storage/xor_chunk.h"

namespace crmscope::storage {
namespace {

double FromBits(uint64_t bits) { return std::bit_cast<double>(bits); }
uint64_t ToBits(double v) { return std::bit_cast<uint64_t>(v); }

XorChunk Encode(const std::vector<Sample>& samples) {
  XorChunk chunk;
  for (const Sample& s : samples) chunk.Append(s.t, s.v);
  return chunk;
}

std::vector<Sample> Decode(std::string_view bytes, bool* error = nullptr) {
  std::vector<Sample> out;
  XorIterator it(bytes);
  while (it.Next()) out.push_back(it.At());
  if (error != nullptr) *error = it.error();
  return out;
}

void CheckSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("sample " << i);
    CHECK(got[i].t == want[i].t);
    CHECK(ToBits(got[i].v) == ToBits(want[i].v));
  }
}

void CheckRoundTrip(const std::vector<Sample>& samples) {
  const XorChunk chunk = Encode(samples);
  CHECK(chunk.num_samples() == static_cast<int>(samples.size()));
  bool error = true;
  CheckSameSamples(Decode(chunk.bytes(), &error), samples);
  CHECK_FALSE(error);
  if (!samples.empty()) {
    CHECK(chunk.first_t() == samples.front().t);
    CHECK(chunk.last_t() == samples.back().t);
    CHECK(ToBits(chunk.last_v()) == ToBits(samples.back().v));
  }
}

std::vector<Sample> WithValues(TimestampMs start, TimestampMs step, const std::vector<double>& vs) {
  std::vector<Sample> out;
  for (double v : vs) out.push_back({start + step * static_cast<TimestampMs>(out.size()), v});
  return out;
}

// A scraped counter: 15s interval with a few ms of scrape jitter, growing by a few per scrape.
std::vector<Sample> JitteredCounter(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Sample> out;
  double v = 12345;
  for (int i = 0; i < n; ++i) {
    v += static_cast<double>(rng() % 8);
    const TimestampMs jitter = static_cast<TimestampMs>(rng() % 11) - 5;
    out.push_back({1'700'000'000'000 + 15'000 * i + jitter, v});
  }
  return out;
}

// Mixed timestamp gaps and values of every kind, to reach each encoder branch.
std::vector<Sample> RandomSeries(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Sample> out;
  TimestampMs t = static_cast<TimestampMs>(rng() % 4'000'000'000'000) - 2'000'000'000'000;
  double v = 0;
  const TimestampMs gaps[] = {1, 15'000, 15'000, 60'000, 86'400'000, 9'000'000'000};
  for (int i = 0; i < n; ++i) {
    t += gaps[rng() % 6] + static_cast<TimestampMs>(rng() % 100);
    switch (rng() % 5) {
      case 0: break;  // unchanged
      case 1: v += 1; break;
      case 2: v = FromBits(rng()); break;  // any bits, NaN payloads included
      case 3: v = static_cast<double>(rng() % 1000) / 7; break;
      default: v = -v; break;
    }
    out.push_back({t, v});
  }
  return out;
}

// Bytes from a string of '0'/'1', zero-padded: a hand-built expectation of the bit layout.
std::string BitsToBytes(const std::string& bits) {
  std::string out((bits.size() + 7) / 8, '\0');
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i] == '1') out[i / 8] = static_cast<char>(out[i / 8] | (0x80 >> (i % 8)));
  }
  return out;
}

std::string Binary(uint64_t value, int nbits) {
  std::string out;
  for (int i = nbits - 1; i >= 0; --i) out += ((value >> i) & 1) != 0 ? '1' : '0';
  return out;
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

TEST_CASE("an empty chunk is the two-byte header alone") {
  XorChunk chunk;
  CHECK(chunk.bytes() == std::string_view("\0\0", 2));
  CHECK(chunk.num_samples() == 0);
  bool error = true;
  CHECK(Decode(chunk.bytes(), &error).empty());
  CHECK_FALSE(error);
  auto reopened = XorChunk::FromBytes(chunk.bytes());
  REQUIRE(reopened.has_value());
  CHECK(reopened->num_samples() == 0);
}

TEST_CASE("every float value round-trips bit-exact") {
  const std::vector<double> values = {
      StaleNaN(),
      FromBits(0x7ff8000000000001),  // Go's math.NaN(), what Prometheus parses "NaN" to
      FromBits(0x7ff8000000000000),
      FromBits(0xfff8000000000000),  // negative quiet NaN
      FromBits(0x7ff0000000000001),  // signalling NaN
      FromBits(0x7fffffffffffffff),
      StaleNaN(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      -0.0,
      0.0,
      -0.0,
      std::numeric_limits<double>::denorm_min(),
      -std::numeric_limits<double>::denorm_min(),
      FromBits(0x000fffffffffffff),  // largest denormal
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::min(),
      1e-300,
      1e300,
      1.0,
      1.0 + std::numeric_limits<double>::epsilon(),
      FromBits(0x8000000000000001),  // XOR with the previous has 64 significant bits
      0.0,
      FromBits(1),  // XOR of 1: leading zeros clamp to 31
      StaleNaN(),
      StaleNaN(),
  };
  CheckRoundTrip(WithValues(1'700'000'000'000, 15'000, values));
  CheckRoundTrip(WithValues(0, 1, {StaleNaN()}));
  // A first window with 63 leading zeros, stored clamped to 31 (the field has 5 bits).
  CheckRoundTrip(WithValues(0, 1, {0.0, FromBits(1), FromBits(3), FromBits(2)}));
}

TEST_CASE("timestamps round-trip whatever their spacing and sign") {
  CheckRoundTrip({{1000, 1}, {1001, 2}, {1002, 3}, {1003, 4}, {1005, 5}});  // 1ms deltas
  CheckRoundTrip({{1'700'000'000'000, 1},
                  {1'700'000'015'000, 1},
                  {1'700'000'029'997, 1},
                  {1'700'086'400'000, 1},  // a day later
                  {1'700'086'400'001, 1},
                  {1'703'000'000'000, 1},  // a month later
                  {1'703'000'015'000, 1}});
  CheckRoundTrip({{-86'400'000'000, 1}, {-86'399'985'000, 2}, {-1, 3}, {0, 4}, {1, 5}});
  const TimestampMs kMin = std::numeric_limits<TimestampMs>::min();
  const TimestampMs kMax = std::numeric_limits<TimestampMs>::max();
  // Deltas and deltas-of-deltas past 2^63 wrap, as in Prometheus, and still decode.
  CheckRoundTrip({{kMin, 1}, {kMin + 1, 2}, {-1, 3}, {0, 4}, {kMax - 1, 5}, {kMax, 6}});
  CheckRoundTrip({{kMin, 1}, {kMax, 2}});
}

TEST_CASE("delta-of-delta buckets have Prometheus's asymmetric bounds") {
  // t: 0, 1000, then 2000 + dod; all values 0. The third sample is 'prefix + dod bits' then '0'.
  const std::string first_two =
      Binary(0, 8) + Binary(0, 64) + Binary(0xe8, 8) + Binary(0x07, 8) + "0";
  struct Case {
    int64_t dod;
    std::string bits;
  };
  const std::vector<Case> cases = {
      {0, "0"},
      {1, "10" + Binary(1, 14)},
      {8192, "10" + Binary(8192, 14)},  // +2^13 still fits 14 bits
      {-8191, "10" + Binary(static_cast<uint64_t>(-8191), 14)},
      {-8192, "110" + Binary(static_cast<uint64_t>(-8192), 17)},
      {8193, "110" + Binary(8193, 17)},
      {65536, "110" + Binary(65536, 17)},
      {65537, "1110" + Binary(65537, 20)},
      {-65536, "1110" + Binary(static_cast<uint64_t>(-65536), 20)},
      {524288, "1110" + Binary(524288, 20)},
      {524289, "1111" + Binary(524289, 64)},
      {-524288, "1111" + Binary(static_cast<uint64_t>(-524288), 64)},
  };
  for (const Case& c : cases) {
    INFO("dod " << c.dod);
    XorChunk chunk;
    chunk.Append(0, 0);
    chunk.Append(1000, 0);
    chunk.Append(2000 + c.dod, 0);
    const std::string want = std::string("\0\3", 2) + BitsToBytes(first_two + c.bits + "0");
    CHECK(chunk.bytes() == want);
    CheckSameSamples(Decode(chunk.bytes()), {{0, 0}, {1000, 0}, {2000 + c.dod, 0}});
  }
}

TEST_CASE("values are stored as XOR windows: unchanged, reused, or a new window") {
  XorChunk chunk;
  chunk.Append(0, FromBits(0));
  chunk.Append(1, FromBits(0));                   // '0'
  chunk.Append(2, FromBits(0x00f0000000000000));  // '11', leading 8, 4 significant
  chunk.Append(3, FromBits(0x0060000000000000));  // xor 0x0090..: fits the window, '10' + 4 bits
  chunk.Append(4, FromBits(0xe060000000000000));  // xor has leading 0, 3 significant: '11'
  chunk.Append(5, FromBits(0x1f9fffffffffffff));  // xor is all ones: 64 significant, written 0
  // Each sample after the second: dod '0', then the value.
  const std::string bits =
      Binary(0, 8) + Binary(0, 64) +                                // t 0, v 0
      Binary(1, 8) + "0" +                                          // delta 1, unchanged
      "0" + "11" + Binary(8, 5) + Binary(4, 6) + "1111" +           // new window
      "0" + "10" + "1001" +                                         // reused window
      "0" + "11" + Binary(0, 5) + Binary(3, 6) + "111" +            // new window
      "0" + "11" + Binary(0, 5) + Binary(0, 6) + std::string(64, '1');  // 64 bits, written 0
  CHECK(chunk.bytes() == std::string("\0\6", 2) + BitsToBytes(bits));
  const auto samples = Decode(chunk.bytes());
  REQUIRE(samples.size() == 6);
  CHECK(ToBits(samples[5].v) == 0x1f9fffffffffffff);
}

TEST_CASE("random series round-trip") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    INFO("seed " << seed);
    CheckRoundTrip(RandomSeries(static_cast<int>(seed % 150), seed));
  }
}

TEST_CASE("FromBytes resumes appending as if the chunk had never been serialised") {
  const std::vector<std::vector<Sample>> series = {
      JitteredCounter(120, 1),
      WithValues(1'700'000'000'000, 15'000, std::vector<double>(120, 42.0)),
      RandomSeries(120, 7),
      RandomSeries(120, 8),
  };
  for (size_t s = 0; s < series.size(); ++s) {
    const XorChunk whole = Encode(series[s]);
    for (size_t split = 0; split <= series[s].size(); ++split) {
      INFO("series " << s << " split " << split);
      const std::vector<Sample> head(series[s].begin(), series[s].begin() + split);
      auto resumed = XorChunk::FromBytes(Encode(head).bytes());
      REQUIRE(resumed.has_value());
      CHECK(resumed->num_samples() == static_cast<int>(split));
      for (size_t i = split; i < series[s].size(); ++i) {
        resumed->Append(series[s][i].t, series[s][i].v);
      }
      REQUIRE(resumed->bytes() == whole.bytes());
      CHECK(resumed->first_t() == whole.first_t());
      CHECK(resumed->last_t() == whole.last_t());
    }
  }
}

TEST_CASE("FromBytes and the iterator reject what is not a valid chunk") {
  const XorChunk chunk = Encode(JitteredCounter(120, 3));
  const std::string bytes(chunk.bytes());
  CHECK_FALSE(XorChunk::FromBytes("").has_value());
  CHECK_FALSE(XorChunk::FromBytes(std::string_view("\0", 1)).has_value());
  for (size_t len = 0; len + 1 < bytes.size(); ++len) {
    INFO("prefix of " << len << " bytes");
    CHECK_FALSE(XorChunk::FromBytes(bytes.substr(0, len)).has_value());
    bool error = false;
    const auto decoded = Decode(bytes.substr(0, len), &error);
    CHECK(error);
    CHECK(decoded.size() < 120);
  }
  CHECK_FALSE(XorChunk::FromBytes(bytes + std::string(2, '\0')).has_value());  // trailing bytes

  // A count above what the stream holds. Zero padding decodes as samples (dod '0', value '0'),
  // as in Prometheus, so only a count needing more than a byte's worth of them is detectable.
  std::string more = bytes;
  more[1] = static_cast<char>(125);
  CHECK_FALSE(XorChunk::FromBytes(more).has_value());
  std::string fewer = bytes;  // a count below it leaves bits after the last sample
  fewer[1] = static_cast<char>(100);
  CHECK_FALSE(XorChunk::FromBytes(fewer).has_value());

  // Two samples, the second's value window claiming 31 leading + 63 significant bits.
  const std::string bad_window =
      std::string("\0\2", 2) + BitsToBytes(Binary(0, 8) + Binary(0, 64) + Binary(1, 8) + "11" +
                                           Binary(31, 5) + Binary(63, 6) + std::string(64, '1'));
  CHECK_FALSE(XorChunk::FromBytes(bad_window).has_value());
  bool error = false;
  CHECK(Decode(bad_window, &error).size() == 1);
  CHECK(error);

  const std::string long_varint =
      std::string("\0\1", 2) + std::string(11, '\xff') + std::string(8, '\0');
  CHECK_FALSE(XorChunk::FromBytes(long_varint).has_value());
}

TEST_CASE("FromBytes rejects padding that is not zero") {
  XorChunk chunk;
  chunk.Append(0, 0);
  chunk.Append(1000, 0);
  chunk.Append(2000, 0);  // ends mid-byte
  std::string bytes(chunk.bytes());
  REQUIRE(XorChunk::FromBytes(bytes).has_value());
  bytes.back() = static_cast<char>(bytes.back() | 1);
  CHECK_FALSE(XorChunk::FromBytes(bytes).has_value());
}

TEST_CASE("Seek advances to the first sample at or after the target, never back") {
  const XorChunk chunk = Encode({{10, 1}, {20, 2}, {30, 3}, {40, 4}});
  XorIterator it(chunk.bytes());
  CHECK(it.num_samples() == 4);
  REQUIRE(it.Seek(5));
  CHECK(it.At().t == 10);
  REQUIRE(it.Seek(10));  // already there: stays
  CHECK(it.At().t == 10);
  REQUIRE(it.Seek(21));
  CHECK(it.At().t == 30);
  CHECK(it.At().v == 3);
  REQUIRE(it.Seek(12));  // behind: stays put
  CHECK(it.At().t == 30);
  REQUIRE(it.Next());
  CHECK(it.At().t == 40);
  CHECK_FALSE(it.Seek(41));
  CHECK_FALSE(it.error());

  XorIterator exact(chunk.bytes());
  REQUIRE(exact.Seek(40));
  CHECK(exact.At().t == 40);
  CHECK_FALSE(exact.Next());
  XorIterator empty(XorChunk().bytes());
  CHECK_FALSE(empty.Seek(0));
  CHECK_FALSE(empty.error());
}

TEST_CASE("a regular scrape compresses to a few bits per sample") {
  std::vector<Sample> counter;
  double v = 1'000'000;
  for (int i = 0; i < kSamplesPerChunk; ++i) {
    v += 3 + (i * 7) % 5;  // a counter creeping up by 3..7 per scrape
    counter.push_back({1'700'000'000'000 + 15'000 * i, v});
  }
  const double counter_bps = static_cast<double>(Encode(counter).bytes().size()) / kSamplesPerChunk;
  const std::vector<Sample> jittered = JitteredCounter(kSamplesPerChunk, 9);
  const double jittered_bps =
      static_cast<double>(Encode(jittered).bytes().size()) / kSamplesPerChunk;
  const auto constant =
      WithValues(1'700'000'000'000, 15'000, std::vector<double>(kSamplesPerChunk, 1));
  const double constant_bps =
      static_cast<double>(Encode(constant).bytes().size()) / kSamplesPerChunk;
  std::printf(
      "xor chunk, %d samples at 15s: counter %.2f B/sample, counter with +-5ms jitter "
      "%.2f B/sample, constant %.2f B/sample (raw: 16)\n",
      kSamplesPerChunk, counter_bps, jittered_bps, constant_bps);
  CHECK(counter_bps < 2.0);
  CHECK(jittered_bps < 3.5);  // jitter alone makes every dod a 16-bit bucket: 2 bytes
  CHECK(constant_bps < 0.5);
}

// Written by Prometheus 2.42 itself: promtool tsdb create-blocks-from openmetrics on the
// samples PromFixtureSample yields, this chunk read out of the block's chunks/000001.
constexpr std::string_view kPrometheusChunkHex =
    "0050de89adfef962408f400000000000ba75e80dc83b7f5b87dfeb8a6666666666c029dfd71ccccccccccdbf"
    "ad800014000000000100a70000c800000000010000480000000002feb60001500000000004029c0003200000"
    "00000bfad800034000000000100a7001fc40000000001001f640000000002feb70fffdee333333333336014e"
    "fec9b9999999999b7f5b00004400000000008053800f8a0000000000200011000000000017f5b001ff800000"
    "00000805380005a00000000005fd6cfda2100000000006014e00100000000000037f5b801c029e12fffb0010"
    "0000000000000037f5b3ff7ffffffffffff4029c7eff1fffffffffff7f5b00004a00000000004029c003f480"
    "0000000008007d500000000002feb60000840000000000805380006100000000002feb6001e5400000000008"
    "0538021499999999999d004d6b3333333333dfd6c0003e8000000000100a7000f0200000000005fd6c003ee8"
    "000000000100a7000072000000000020001a40000000000bfad80078d00000000002014e001f040000000000"
    "bfad80002d00000000002014e0081c33333333333bfad80279ccccccccccce014e001f140000000000400028"
    "800000000017f5b00006200000000004029c003d2800000000017f5b000f9200000000004029c0002a800000"
    "000008000cd00000000002feb6001d440000000000805380269ccccccccccd2feb6008463333333333480538"
    "000d900000000001000eba00000000005fd6c003f88000000000100a70000fa00000000005fd6c0006280000"
    "000001b8b35000e92000000000063ab94003fa80000000001b89e900008200000000004029c0111466666666"
    "6697f5b004b39999999999a4029c003fc800000000017f5b00008a00000000004029c0006e80000000000800"
    "76100000000002feb6001ff40000000000805380005900000000002feb60003240000000000805380076d000"
    "00000001004939999999999a5fd6c011986666666666900a700016a00000000005fd6c0038c8000000000100"
    "a7000fca000000000020002c40000000000bfad80005100000000000";

Sample PromFixtureSample(int i) {
  TimestampMs t = 1'700'000'015'000 + i * 15'000 + (i * 7919) % 83 - 41;
  if (i == 60) t = PromFixtureSample(59).t + 1;
  double v = 1000.0 + i * (i % 4);
  if (i % 10 == 3) v = i * 0.1;
  switch (i) {
    case 20: v = FromBits(0x7ff8000000000001); break;
    case 21: v = std::numeric_limits<double>::infinity(); break;
    case 22: v = -std::numeric_limits<double>::infinity(); break;
    case 23: v = -0.0; break;
    case 24: v = std::numeric_limits<double>::denorm_min(); break;
    case 25: v = std::numeric_limits<double>::max(); break;
    default: break;
  }
  return {t, v};
}

TEST_CASE("chunks are byte for byte those Prometheus writes") {
  const std::string prometheus = FromHex(kPrometheusChunkHex);
  std::vector<Sample> samples;
  for (int i = 0; i < 80; ++i) samples.push_back(PromFixtureSample(i));
  bool error = true;
  CheckSameSamples(Decode(prometheus, &error), samples);
  CHECK_FALSE(error);
  CHECK(Encode(samples).bytes() == prometheus);
  auto reopened = XorChunk::FromBytes(prometheus);
  REQUIRE(reopened.has_value());
  CHECK(reopened->num_samples() == 80);
}

TEST_CASE("a chunk ending on whole bytes keeps Prometheus's empty trailing byte") {
  // promtool tsdb create-blocks-from openmetrics of the one sample "1.0 1700000000.000".
  const std::string prometheus = FromHex("000180a0abfef9623ff000000000000000");
  XorChunk chunk;
  chunk.Append(1'700'000'000'000, 1.0);
  CHECK(chunk.bytes() == prometheus);
  auto reopened = XorChunk::FromBytes(prometheus);
  REQUIRE(reopened.has_value());
  reopened->Append(1'700'000'015'000, 2.0);
  chunk.Append(1'700'000'015'000, 2.0);
  CHECK(reopened->bytes() == chunk.bytes());
}

}  // namespace
}  // namespace crmscope::storage
