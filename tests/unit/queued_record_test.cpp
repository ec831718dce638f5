// The sender's record index: what IndexRecord() reads out of a queue record and what
// AppendSeriesField() writes into a batch must decode, through the receiver's own Decode(), to
// exactly what was appended, and series must route by the same hash as before.
#include <doctest/doctest.h>

#include <bit>
#include <limits>
#include <string>

#include "exporters/remote_write/codec.h"
#include "exporters/remote_write/queued_record.h"
#include "tests/unit/protobuf_wire.h"

namespace rw = crmscope::remote_write;
using namespace crmscope::testing;
using crmscope::Sample;

namespace {

constexpr size_t kLimit = 32 << 20;

rw::WriteRequest Request() {
  rw::WriteRequest request;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  request.series.push_back({{{"__name__", "crmscope_proxy_requests_total"}, {"route", "/api/{id}"}},
                            {{1700000000000, 1}, {1700000001000, 2.5}}});
  request.series.push_back({{{"__name__", "up"}, {"instance", "ünïcode:9100"}, {"job", ""}},
                            {{-5, -0.0}, {0, nan}, {1, std::numeric_limits<double>::infinity()}}});
  request.series.push_back({{{"__name__", "no_samples"}}, {}});
  request.series.push_back({{{"__name__", "node_load1"}}, {{1700000002000, 0.75}}});
  request.metadata.push_back({rw::MetricType::kCounter, "crmscope_proxy_requests_total",
                              "Requests.", ""});
  request.metadata.push_back({rw::MetricType::kGauge, "node_load1", "1m load average.", ""});
  return request;
}

std::string SampleBytes(double v, int64_t t) {
  return DoubleField(1, v) + VarintField(2, static_cast<uint64_t>(t));
}

}  // namespace

TEST_CASE("a record indexed and re-encoded decodes to what was appended, metadata included") {
  const rw::WriteRequest sent = Request();
  rw::QueuedRecord record;
  std::string error;
  REQUIRE_MESSAGE(rw::IndexRecord(rw::Encode(sent), kLimit, &record, &error), error);
  REQUIRE(record.series.size() == 3);  // the series without samples has nothing to send
  REQUIRE(record.metadata.size() == 2);

  std::string wire;
  for (const auto& s : record.series) {
    rw::AppendSeriesField(s.label_fields, record.samples.data() + s.sample_begin,
                      s.sample_end - s.sample_begin, &wire);
  }
  for (std::string_view m : record.metadata) wire.append(m);
  rw::DecodedRequest decoded;
  REQUIRE_MESSAGE(rw::Decode(Compressed(wire), kLimit, &decoded, &error), error);

  const size_t expected[] = {0, 1, 3};
  REQUIRE(decoded.series().size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const rw::TimeSeries& want = sent.series[expected[i]];
    const auto& got = decoded.series()[i];
    CHECK(LabelsOf(decoded, got) == want.labels);
    // Routing: the hash the sender always used, over the labels as sent.
    CHECK(record.series[i].hash == crmscope::HashLabels(want.labels));
    REQUIRE(got.sample_end - got.sample_begin == want.samples.size());
    for (size_t k = 0; k < want.samples.size(); ++k) {
      const Sample& sample = decoded.samples()[got.sample_begin + k];
      CHECK(sample.t == want.samples[k].t);
      CHECK(std::bit_cast<uint64_t>(sample.v) == std::bit_cast<uint64_t>(want.samples[k].v));
    }
  }
  REQUIRE(decoded.metadata().size() == 2);
  CHECK(decoded.metadata()[0].type == rw::MetricType::kCounter);
  CHECK(decoded.metadata()[0].family == "crmscope_proxy_requests_total");
  CHECK(decoded.metadata()[1].help == "1m load average.");
}

TEST_CASE("samples of one series from two records go out as one timeseries entry, in order") {
  rw::QueuedRecord first, second;
  std::string error;
  rw::WriteRequest a{{{{{"__name__", "x"}}, {{1000, 1}}}}, {}};
  rw::WriteRequest b{{{{{"__name__", "x"}}, {{2000, 2}, {3000, 3}}}}, {}};
  REQUIRE(rw::IndexRecord(rw::Encode(a), kLimit, &first, &error));
  REQUIRE(rw::IndexRecord(rw::Encode(b), kLimit, &second, &error));
  CHECK(first.series[0].hash == second.series[0].hash);
  CHECK(first.series[0].label_fields == second.series[0].label_fields);
  std::vector<Sample> merged = first.samples;
  merged.insert(merged.end(), second.samples.begin(), second.samples.end());
  std::string wire;
  rw::AppendSeriesField(first.series[0].label_fields, merged.data(), merged.size(), &wire);
  rw::DecodedRequest decoded;
  REQUIRE(rw::Decode(Compressed(wire), kLimit, &decoded, &error));
  REQUIRE(decoded.series().size() == 1);
  REQUIRE(decoded.samples().size() == 3);
  CHECK(decoded.samples()[2].t == 3000);
  CHECK(decoded.samples()[2].v == 3);
}

TEST_CASE("exemplars and unknown fields are skipped; interleaved labels and damage are refused") {
  const std::string label = BytesField(1, BytesField(1, "__name__") + BytesField(2, "m"));
  const std::string label2 = BytesField(1, BytesField(1, "a") + BytesField(2, "b"));
  const std::string sample = BytesField(2, SampleBytes(4.5, 1700000000000));
  const std::string exemplar = BytesField(3, BytesField(1, BytesField(1, "trace_id")));
  rw::QueuedRecord record;
  std::string error;

  std::string ok = BytesField(1, label + label2 + sample + exemplar) + BytesField(9, "future");
  REQUIRE_MESSAGE(rw::IndexRecord(Compressed(ok), kLimit, &record, &error), error);
  REQUIRE(record.series.size() == 1);
  CHECK(record.series[0].label_fields == label + label2);
  REQUIRE(record.samples.size() == 1);
  CHECK(record.samples[0].v == 4.5);
  CHECK(record.samples[0].t == 1700000000000);

  std::string interleaved = BytesField(1, label + sample + label2);
  CHECK_FALSE(rw::IndexRecord(Compressed(interleaved), kLimit, &record, &error));
  CHECK(error.find("interleaved") != std::string::npos);

  std::string truncated = ok.substr(0, ok.size() - 12);
  CHECK_FALSE(rw::IndexRecord(Compressed(truncated), kLimit, &record, &error));
  CHECK(error.find("damaged") != std::string::npos);

  CHECK_FALSE(rw::IndexRecord("not snappy at all", kLimit, &record, &error));
  CHECK(error.find("snappy") != std::string::npos);

  CHECK_FALSE(rw::IndexRecord(Compressed(ok), ok.size() - 1, &record, &error));
  CHECK(error.find("too large") != std::string::npos);
}
