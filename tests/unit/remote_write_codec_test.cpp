#include <doctest/doctest.h>
#include <snappy.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "exporters/remote_write/codec.h"
#include "tests/unit/protobuf_wire.h"

namespace rw = crmscope::remote_write;
using namespace crmscope::testing;
using crmscope::Label;
using crmscope::Labels;
using crmscope::LabelView;
using crmscope::Sample;

namespace {

constexpr size_t kLimit = 32 << 20;

rw::WriteRequest ManySeries(int count) {
  rw::WriteRequest request;
  for (int i = 0; i < count; ++i) {
    rw::TimeSeries series;
    series.labels.push_back({"__name__", "metric_" + std::to_string(i % 7)});
    series.labels.push_back({"instance", "host-" + std::to_string(i) + ":9100"});
    for (int l = 0; l < i % 4; ++l) {
      series.labels.push_back({"extra" + std::to_string(l), std::string(l * 10, 'x')});
    }
    for (int s = 0; s < 1 + i % 3; ++s) {
      series.samples.push_back(Sample{1700000000000LL + i * 1000 + s, i * 0.25 + s});
    }
    request.series.push_back(std::move(series));
  }
  return request;
}

void CheckEqual(const rw::WriteRequest& sent, const rw::DecodedRequest& decoded) {
  REQUIRE(decoded.series().size() == sent.series.size());
  for (size_t i = 0; i < sent.series.size(); ++i) {
    const rw::DecodedRequest::Series& series = decoded.series()[i];
    CHECK(LabelsOf(decoded, series) == sent.series[i].labels);
    REQUIRE(series.sample_end - series.sample_begin == sent.series[i].samples.size());
    for (size_t s = 0; s < sent.series[i].samples.size(); ++s) {
      const Sample& got = decoded.samples()[series.sample_begin + s];
      CHECK(got.t == sent.series[i].samples[s].t);
      CHECK(std::bit_cast<uint64_t>(got.v) == std::bit_cast<uint64_t>(sent.series[i].samples[s].v));
    }
  }
}

std::string Uncompressed(const std::string& body) {
  std::string out;
  REQUIRE(snappy::Uncompress(body.data(), body.size(), &out));
  return out;
}

}  // namespace

TEST_CASE("round trip of many series keeps labels, order and samples") {
  rw::WriteRequest sent = ManySeries(2500);
  std::string body = rw::Encode(sent);
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(body, kLimit, &decoded, &error));
  CHECK(error.empty());
  CHECK(decoded.uncompressed_bytes() == Uncompressed(body).size());
  CheckEqual(sent, decoded);
  CHECK(decoded.metadata().empty());
}

TEST_CASE("special floats and extreme timestamps survive bit-exact") {
  const double values[] = {
      crmscope::StaleNaN(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      -0.0,
      0.0,
      std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::max(),
  };
  rw::WriteRequest sent;
  rw::TimeSeries series;
  series.labels = {{"__name__", "special"}};
  int64_t t = -1;
  for (double v : values) series.samples.push_back(Sample{t++, v});
  series.samples.push_back(Sample{std::numeric_limits<int64_t>::max(), 1});
  series.samples.push_back(Sample{std::numeric_limits<int64_t>::min(), 2});
  sent.series.push_back(series);

  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(rw::Encode(sent), kLimit, &decoded, &error));
  CheckEqual(sent, decoded);
  REQUIRE(decoded.samples().size() == 10);
  CHECK(std::bit_cast<uint64_t>(decoded.samples()[0].v) == 0x7ff0000000000002ULL);
  CHECK(crmscope::IsStaleNaN(decoded.samples()[0].v));
  CHECK(std::signbit(decoded.samples()[3].v));
  CHECK(decoded.samples()[3].v == 0.0);
  CHECK(std::isinf(decoded.samples()[2].v));
  CHECK(decoded.samples()[2].v < 0);
}

TEST_CASE("unicode and empty label values are returned as sent") {
  rw::WriteRequest sent;
  sent.series.push_back(rw::TimeSeries{
      {{"__name__", "crm_logins_total"},
       {"city", "Zürich"},
       {"empty", ""},
       {"tenant", "株式会社テスト 🚀"},
       {"zz", std::string("nul\0inside", 10)}},
      {Sample{5, 1}}});
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(rw::Encode(sent), kLimit, &decoded, &error));
  CheckEqual(sent, decoded);
  CHECK(decoded.labels()[3].value == "株式会社テスト 🚀");
  CHECK(decoded.labels()[4].value.size() == 10);
}

TEST_CASE("invalid UTF-8 is returned as sent, for the receiver to reject with a reason") {
  // Validation belongs to the receiver (crmscope::ValidateLabels), which can name the label;
  // the codec must neither fail the whole request nor alter the bytes.
  const std::string invalid = "bad\xff\xfe";
  rw::WriteRequest sent;
  sent.series.push_back(rw::TimeSeries{{{"__name__", "m"}, {"v", invalid}}, {Sample{1, 1}}});
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(rw::Encode(sent), kLimit, &decoded, &error));
  REQUIRE(decoded.labels().size() == 2);
  CHECK(decoded.labels()[1].value == invalid);
}

TEST_CASE("metadata round trip covers every metric type") {
  rw::WriteRequest sent;
  for (int type = 0; type <= 7; ++type) {
    sent.metadata.push_back(rw::MetricMetadata{static_cast<rw::MetricType>(type),
                                               "family_" + std::to_string(type),
                                               "Help text with \"quotes\" and ü.", "seconds"});
  }
  sent.metadata.push_back(rw::MetricMetadata{rw::MetricType::kCounter, "bare", "", ""});
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(rw::Encode(sent), kLimit, &decoded, &error));
  CHECK(decoded.series().empty());
  REQUIRE(decoded.metadata().size() == sent.metadata.size());
  for (size_t i = 0; i < sent.metadata.size(); ++i) {
    CHECK(decoded.metadata()[i].type == sent.metadata[i].type);
    CHECK(decoded.metadata()[i].family == sent.metadata[i].family);
    CHECK(decoded.metadata()[i].help == sent.metadata[i].help);
    CHECK(decoded.metadata()[i].unit == sent.metadata[i].unit);
  }
}

TEST_CASE("metric type names are Prometheus's API strings") {
  const char* expected[] = {"unknown", "counter", "gauge", "histogram", "gaugehistogram",
                            "summary", "info", "stateset"};
  for (int type = 0; type <= 7; ++type) {
    CHECK(rw::MetricTypeName(static_cast<rw::MetricType>(type)) == expected[type]);
  }
}

TEST_CASE("corrupt snappy is refused with a one-line reason") {
  rw::DecodedRequest decoded;
  std::string error;
  CHECK_FALSE(rw::Decode("", kLimit, &decoded, &error));
  CHECK(error == "snappy: corrupt input");

  // An unterminated length varint.
  error.clear();
  CHECK_FALSE(rw::Decode(std::string(12, '\xff'), kLimit, &decoded, &error));
  CHECK(error == "snappy: corrupt input");

  // A valid header whose body is damaged: the final literal is cut short.
  std::string body = rw::Encode(ManySeries(10));
  body.resize(body.size() - 5);
  error.clear();
  CHECK_FALSE(rw::Decode(body, kLimit, &decoded, &error));
  CHECK(error == "snappy: corrupt input");
  CHECK(decoded.series().empty());
}

TEST_CASE("a truncated protobuf is refused") {
  std::string raw = Uncompressed(rw::Encode(ManySeries(3)));
  // The last top-level field is a length-delimited TimeSeries, so any cut inside it is an error.
  raw.resize(raw.size() - 1);
  rw::DecodedRequest decoded;
  std::string error;
  CHECK_FALSE(rw::Decode(Compressed(raw), kLimit, &decoded, &error));
  CHECK(error == "protobuf: cannot parse WriteRequest");
  CHECK(decoded.series().empty());
  CHECK(decoded.labels().empty());

  // A wire type that does not exist (7).
  CHECK_FALSE(rw::Decode(Compressed("\x0f"), kLimit, &decoded, &error));
  CHECK(error == "protobuf: cannot parse WriteRequest");
}

TEST_CASE("the uncompressed size limit is checked before decompressing") {
  std::string body = rw::Encode(ManySeries(50));
  size_t size = Uncompressed(body).size();
  rw::DecodedRequest decoded;
  std::string error;
  CHECK_FALSE(rw::Decode(body, size - 1, &decoded, &error));
  CHECK(error == "decoded size " + std::to_string(size) + " exceeds limit " +
                     std::to_string(size - 1));
  CHECK(rw::Decode(body, size, &decoded, &error));
  CHECK(decoded.series().size() == 50);

  // A 5-byte body announcing 4 GiB - 1: refused by the header alone.
  std::string bomb = Varint(0xffffffffULL) + "x";
  CHECK_FALSE(rw::Decode(bomb, 32 << 20, &decoded, &error));
  CHECK(error == "decoded size 4294967295 exceeds limit 33554432");
  CHECK(decoded.series().empty());
}

TEST_CASE("a body built by an independent encoder decodes per the specification's field numbers") {
  std::string label1 = BytesField(1, "__name__") + BytesField(2, "http_requests_total");
  std::string label2 = BytesField(1, "code") + BytesField(2, "200");
  std::string sample1 = DoubleField(1, 42.5) + VarintField(2, 1700000000123ULL);
  std::string sample2 = DoubleField(1, -1.0) + VarintField(2, static_cast<uint64_t>(int64_t{-5}));
  std::string exemplar = BytesField(1, BytesField(1, "trace_id") + BytesField(2, "abc")) +
                         DoubleField(2, 0.3) + VarintField(3, 1700000000000ULL);
  std::string series = BytesField(1, label1) + BytesField(1, label2) + BytesField(2, sample1) +
                       BytesField(2, sample2) + BytesField(3, exemplar) +
                       BytesField(4, "native histogram, unknown to remote write 1.0");
  std::string metadata = VarintField(1, 3) + BytesField(2, "http_request_duration_seconds") +
                         BytesField(4, "Latency.") + BytesField(5, "seconds");
  std::string request = BytesField(1, series) + BytesField(3, metadata) +
                        BytesField(1, BytesField(1, BytesField(1, "__name__") + BytesField(2, "up")));
  // The first label spelled out byte by byte, so the helpers above are themselves checked.
  CHECK(label1.substr(0, 12) == std::string("\x0a\x08__name__\x12\x13", 12));

  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(Compressed(request), kLimit, &decoded, &error));
  CHECK(decoded.uncompressed_bytes() == request.size());
  REQUIRE(decoded.series().size() == 2);
  const rw::DecodedRequest::Series& first = decoded.series()[0];
  CHECK(LabelsOf(decoded, first) == Labels{{"__name__", "http_requests_total"}, {"code", "200"}});
  REQUIRE(first.sample_end - first.sample_begin == 2);
  CHECK(decoded.samples()[first.sample_begin].v == 42.5);
  CHECK(decoded.samples()[first.sample_begin].t == 1700000000123LL);
  CHECK(decoded.samples()[first.sample_begin + 1].v == -1.0);
  CHECK(decoded.samples()[first.sample_begin + 1].t == -5);
  const rw::DecodedRequest::Series& second = decoded.series()[1];
  CHECK(LabelsOf(decoded, second) == Labels{{"__name__", "up"}});
  CHECK(second.sample_begin == second.sample_end);
  REQUIRE(decoded.metadata().size() == 1);
  CHECK(decoded.metadata()[0].type == rw::MetricType::kHistogram);
  CHECK(decoded.metadata()[0].family == "http_request_duration_seconds");
  CHECK(decoded.metadata()[0].help == "Latency.");
  CHECK(decoded.metadata()[0].unit == "seconds");
}

TEST_CASE("an unknown metric type number decodes as unknown") {
  std::string request = BytesField(3, VarintField(1, 99) + BytesField(2, "m"));
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(Compressed(request), kLimit, &decoded, &error));
  REQUIRE(decoded.metadata().size() == 1);
  CHECK(decoded.metadata()[0].type == rw::MetricType::kUnknown);
}

TEST_CASE("one DecodedRequest reused across requests of different shapes") {
  rw::DecodedRequest decoded;
  std::string error;
  rw::WriteRequest big = ManySeries(300);
  rw::WriteRequest small = ManySeries(2);
  small.series[1].labels.push_back({"zone", "eu-central"});
  REQUIRE(rw::Decode(rw::Encode(big), kLimit, &decoded, &error));
  CheckEqual(big, decoded);
  REQUIRE(rw::Decode(rw::Encode(small), kLimit, &decoded, &error));
  CheckEqual(small, decoded);
  // A failed decode leaves nothing behind from the previous request.
  CHECK_FALSE(rw::Decode("garbage", kLimit, &decoded, &error));
  CHECK(decoded.series().empty());
  CHECK(decoded.samples().empty());
  REQUIRE(rw::Decode(rw::Encode(big), kLimit, &decoded, &error));
  CheckEqual(big, decoded);
}

TEST_CASE("after a request too large to keep buffers for, the next decodes correctly") {
  rw::WriteRequest huge;
  huge.series.push_back(rw::TimeSeries{{{"__name__", "big"}, {"blob", std::string(9 << 20, 'b')}},
                                       {Sample{7, 7.5}}});
  rw::WriteRequest small = ManySeries(20);
  const std::string huge_body = rw::Encode(huge);
  rw::DecodedRequest decoded;
  std::string error;
  REQUIRE(rw::Decode(huge_body, kLimit, &decoded, &error));
  CheckEqual(huge, decoded);
  REQUIRE(rw::Decode(rw::Encode(small), kLimit, &decoded, &error));
  CheckEqual(small, decoded);
  REQUIRE(rw::Decode(huge_body, kLimit, &decoded, &error));
  CHECK(decoded.labels()[1].value.size() == size_t{9} << 20);
  REQUIRE(rw::Decode(rw::Encode(small), kLimit, &decoded, &error));
  CheckEqual(small, decoded);
}
