// The exposition parser against real output captured into tests/data/exposition (see its
// README.md): prometheus-cpp (crm-node), Prometheus 2.42 (/metrics and /federate),
// node_exporter 1.5 and the Python client (text and OpenMetrics). Sample counts are those
// Prometheus 2.42 itself reported (scrape_samples_scraped) scraping the same bytes.
#include <doctest/doctest.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <new>
#include <sstream>

#include "agent/sources/scrape/exposition_parser.h"

// Counts heap allocations, to check the parser's steady state allocates nothing.
// g++ 12 takes free() of what this operator new returned for a mismatch, not seeing it is malloc's.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocations{0};
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace crmscope::agent {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(CRMSCOPE_SOURCE_DIR) + "/tests/data/exposition/" + name);
  REQUIRE_MESSAGE(in.good(), "missing test data " << name);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct Parsed {
  // Keyed by the series as LabelsToString prints it.
  std::map<std::string, double> samples;
  std::map<std::string, TimestampMs> timestamps;
  size_t sample_count = 0;
  size_t help = 0, type = 0, unit = 0;
  std::map<std::string, std::string> help_of, unit_of;
  std::map<std::string, MetricKind> kind_of;
  std::string error;
};

Labels LabelsOf(const ExpositionParser& p, bool drop_target_labels = false) {
  Labels labels{{std::string(kMetricNameLabel), std::string(p.metric_name())}};
  for (const LabelView& l : p.labels()) {
    if (drop_target_labels && (l.name == "job" || l.name == "instance")) continue;
    labels.push_back({std::string(l.name), std::string(l.value)});
  }
  SortLabels(labels);
  return labels;
}

Parsed ParseAll(std::string_view body, ExpositionFormat format, bool drop_target_labels = false) {
  Parsed out;
  ExpositionParser p(body, format);
  while (true) {
    ExpositionParser::Entry e = p.Next();
    if (e == ExpositionParser::Entry::kEnd) break;
    if (e == ExpositionParser::Entry::kError) {
      out.error = p.error();
      break;
    }
    std::string family(p.family());
    switch (e) {
      case ExpositionParser::Entry::kHelp: ++out.help; out.help_of[family] = p.text(); break;
      case ExpositionParser::Entry::kType: ++out.type; out.kind_of[family] = p.kind(); break;
      case ExpositionParser::Entry::kUnit: ++out.unit; out.unit_of[family] = p.text(); break;
      default: {
        ++out.sample_count;
        std::string key = LabelsToString(LabelsOf(p, drop_target_labels));
        out.samples[key] = p.value();
        if (p.has_timestamp()) out.timestamps[key] = p.timestamp();
      }
    }
  }
  return out;
}

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST_CASE("node_exporter 1.5 output: every sample, metadata and spot values") {
  Parsed p = ParseAll(ReadData("node_exporter_1.5.txt"), ExpositionFormat::kText004);
  CHECK(p.error == "");
  CHECK(p.sample_count == 507);  // Prometheus 2.42's scrape_samples_scraped for these bytes
  CHECK(p.samples.size() == 507);
  CHECK(p.help == 283);
  CHECK(p.type == 283);
  CHECK(p.samples["node_memory_MemTotal_bytes{}"] == 2.5276510208e+10);
  CHECK(p.samples["node_cpu_seconds_total{cpu=\"0\", mode=\"idle\"}"] == 1615.32);
  CHECK(p.samples["go_gc_duration_seconds{quantile=\"0.5\"}"] == 2.4837e-05);
  CHECK(p.samples.count(
            "node_uname_info{domainname=\"(none)\", machine=\"x86_64\", nodename=\"vm\", "
            "release=\"6.18.44-fc-v657\", sysname=\"Linux\", "
            "version=\"#1 SMP PREEMPT_DYNAMIC @0\"}") == 1);
  CHECK(p.kind_of["go_gc_duration_seconds"] == MetricKind::kSummary);
  CHECK(p.kind_of["node_cpu_seconds_total"] == MetricKind::kCounter);
  CHECK(p.help_of["node_memory_MemTotal_bytes"] == "Memory information field MemTotal_bytes.");
}

TEST_CASE("Prometheus 2.42 /metrics output") {
  Parsed p = ParseAll(ReadData("prometheus_2.42.txt"), ExpositionFormat::kText004);
  CHECK(p.error == "");
  CHECK(p.sample_count == 331);
  CHECK(p.help == 169);
  CHECK(p.type == 169);
  CHECK(p.samples["prometheus_build_info{branch=\"debian/sid\", goarch=\"amd64\", goos=\"linux\", "
                  "goversion=\"go1.19.8\", revision=\"2.42.0+ds-5+deb12u1\", "
                  "version=\"2.42.0+ds\"}"] == 1);
  CHECK(p.samples["prometheus_http_request_duration_seconds_bucket{handler=\"/metrics\", "
                  "le=\"+Inf\"}"] == 60);
  CHECK(p.samples["prometheus_tsdb_head_series{}"] == 336);
  CHECK(p.kind_of["prometheus_http_request_duration_seconds"] == MetricKind::kHistogram);
}

TEST_CASE("prometheus-cpp output (crm-node /metrics)") {
  Parsed p = ParseAll(ReadData("prometheus_cpp_crm_node.txt"), ExpositionFormat::kText004);
  CHECK(p.error == "");
  CHECK(p.sample_count == 480);
  CHECK(p.type == 22);
  CHECK(p.samples["http_requests_total{code=\"200\", method=\"GET\", "
                  "route=\"/api/customers/{id}\"}"] == 60);
  CHECK(p.samples["http_request_duration_seconds_bucket{le=\"+Inf\", method=\"GET\", "
                  "route=\"/metrics\"}"] == 1);
  CHECK(p.kind_of["http_request_duration_seconds"] == MetricKind::kHistogram);
}

TEST_CASE("Python client: OpenMetrics and the text format give the same samples") {
  Parsed text = ParseAll(ReadData("python_client_0.16.txt"), ExpositionFormat::kText004);
  Parsed om = ParseAll(ReadData("python_client_0.16.om.txt"), ExpositionFormat::kOpenMetrics1);
  REQUIRE(text.error == "");
  REQUIRE(om.error == "");
  CHECK(text.sample_count == 41);
  // Prometheus 2.42 counts 41 here too; the 5 `_created` lines are skipped, not stored.
  CHECK(om.sample_count == 36);
  CHECK(om.unit == 3);
  size_t created = 0;
  for (const auto& [series, value] : text.samples) {
    if (series.find("_created{") != std::string::npos) {
      ++created;
      CHECK(om.samples.count(series) == 0);
      continue;
    }
    REQUIRE_MESSAGE(om.samples.count(series) == 1, series);
    // The two captures are two requests: the client process's own CPU and memory moved between.
    if (series.starts_with("process_")) continue;
    CHECK_MESSAGE(SameValue(om.samples[series], value), series);
  }
  CHECK(created == 5);

  const std::string escaped =
      "crm_requests_total{method=\"GET\", route=\"a \\\"quoted\\\" \\\\ value\\nwith newline\"}";
  CHECK(om.samples[escaped] == 1);
  CHECK(text.samples[escaped] == 1);
  CHECK(om.help_of["crm_requests"] == "Requests by route.\nSecond line with a \\ backslash.");
  CHECK(text.help_of["crm_requests_total"] == om.help_of["crm_requests"]);
  CHECK(om.unit_of["crm_request_duration_seconds"] == "seconds");
  CHECK(om.kind_of["crm_build"] == MetricKind::kInfo);
  CHECK(om.kind_of["crm_node_state"] == MetricKind::kStateset);
  // The bucket carrying an exemplar.
  CHECK(om.samples["crm_request_duration_seconds_bucket{le=\"0.05\", route=\"/api/orders\"}"] == 4);
  double nan = om.samples["crm_queue_age_seconds{}"];
  CHECK(std::bit_cast<uint64_t>(nan) == 0x7ff8000000000001ULL);  // Go's NaN, not a stale marker
  CHECK(om.samples["crm_ratio{kind=\"up\"}"] == INFINITY);
  CHECK(om.samples["crm_ratio{kind=\"down\"}"] == -INFINITY);
}

TEST_CASE("What Prometheus 2.42 stored from the OpenMetrics scrape, read back via /federate") {
  Parsed federated = ParseAll(ReadData("prometheus_2.42_federate.txt"),
                              ExpositionFormat::kText004, /*drop_target_labels=*/true);
  Parsed om = ParseAll(ReadData("python_client_0.16.om.txt"), ExpositionFormat::kOpenMetrics1);
  REQUIRE(federated.error == "");
  // Our 36, the 5 `_created` series Prometheus 2.42 stores, and its 5 report series.
  CHECK(federated.sample_count == 46);
  for (const auto& [series, value] : om.samples) {
    REQUIRE_MESSAGE(federated.samples.count(series) == 1, series);
    CHECK_MESSAGE(SameValue(federated.samples[series], value), series);
    CHECK(federated.timestamps[series] == 1795780871636);
  }
}

TEST_CASE("OpenMetrics timestamps are seconds, the text format's milliseconds") {
  Parsed om = ParseAll("a 1 1700000000.1234\nb{x=\"y\"} 2 -1.5\n# EOF\n",
                       ExpositionFormat::kOpenMetrics1);
  CHECK(om.error == "");
  CHECK(om.timestamps["a{}"] == 1700000000123);
  CHECK(om.timestamps["b{x=\"y\"}"] == -1500);
  Parsed text = ParseAll("a 1 1700000000123\nb 2\n", ExpositionFormat::kText004);
  CHECK(text.timestamps["a{}"] == 1700000000123);
  CHECK(text.timestamps.count("b{}") == 0);
}

TEST_CASE("Text format leniencies Prometheus accepts") {
  Parsed p = ParseAll(
      "  # a comment\n\n# HELP x  help with  spaces\n# TYPE x gauge\n"
      "x{a=\"1\",} 1\r\nx { b = \"2\" } +2.5e3\ny\t-Inf\t123\nz NaN\nw{} 7\n"
      "v{a=\"\\t\"} 1\n",
      ExpositionFormat::kText004);
  CHECK(p.error == "");
  CHECK(p.sample_count == 6);
  CHECK(p.help_of["x"] == "help with  spaces");
  CHECK(p.samples["x{a=\"1\"}"] == 1);
  CHECK(p.samples["x{b=\"2\"}"] == 2500);
  CHECK(p.samples["y{}"] == -INFINITY);
  CHECK(p.timestamps["y{}"] == 123);
  CHECK(std::isnan(p.samples["z{}"]));
  CHECK(p.samples["w{}"] == 7);
  // An unknown escape stays as written, backslash included.
  CHECK(p.samples.count("v{a=\"\\\\t\"}") == 1);
}

TEST_CASE("Malformed input: the error names the line") {
  struct Case {
    ExpositionFormat format;
    const char* body;
    const char* error;
  };
  const ExpositionFormat kText = ExpositionFormat::kText004;
  const ExpositionFormat kOm = ExpositionFormat::kOpenMetrics1;
  const Case cases[] = {
      {kText, "a 1\nb\n", "line 2: expected a value after \"b\""},
      {kText, "a 1\n\nb{x=\"1} 2\n", "line 3: unterminated label value \"b\""},
      {kText, "b{x=1} 2\n", "line 1: expected '\"' to open a label value \"b\""},
      {kText, "b{1x=\"1\"} 2\n", "line 1: invalid label name \"b\""},
      {kText, "b{x=\"1\" y=\"2\"} 2\n", "line 1: expected ',' or '}' after a label \"b\""},
      {kText, "b 1x\n", "line 1: invalid value \"1x\""},
      {kText, "b 1 12.5\n", "line 1: invalid timestamp \"12.5\""},
      {kText, "b 1 2 3\n", "line 1: unexpected text after the sample \"3\""},
      {kText, "b 1 # {a=\"b\"} 1\n", "line 1: unexpected text after the sample \"# {a=\"b\"} 1\""},
      {kText, "# TYPE b countr\n", "line 1: invalid metric type \"countr\""},
      {kText, "9b 1\n", "line 1: invalid metric name \"9b\""},
      {kText, "b +-1\n", "line 1: invalid value \"+-1\""},
      {kText, "b nan(1)\n", "line 1: invalid value \"nan(1)\""},
      {kOm, "a 1\n", "line 1: data does not end with # EOF"},
      {kOm, "a 1\n# EOF\nb 2\n", "line 3: unexpected data after # EOF"},
      {kOm, "a 1\n\n# EOF\n", "line 2: empty line"},
      {kOm, "# comment\n# EOF\n", "line 1: expected HELP, TYPE, UNIT or EOF after '#', got \"comment\""},
      {kOm, "a 1 Inf\n# EOF\n", "line 1: invalid timestamp \"Inf\""},
      {kOm, "a 1 # a=\"b\" 1\n# EOF\n", "line 1: expected '{' to open an exemplar's labels \"a=\"b\" 1\""},
      {kOm, "# TYPE a untyped\n# EOF\n", "line 1: invalid metric type \"untyped\""},
  };
  for (const Case& c : cases) {
    Parsed p = ParseAll(c.body, c.format);
    CHECK_MESSAGE(p.error == c.error, c.body);
  }
  // Once failed, the parser stays failed.
  ExpositionParser p("b\na 1\n", ExpositionFormat::kText004);
  CHECK(p.Next() == ExpositionParser::Entry::kError);
  CHECK(p.Next() == ExpositionParser::Entry::kError);
}

TEST_CASE("The Content-Type picks the format, as Prometheus picks its parser") {
  CHECK(ExpositionFormatFor("application/openmetrics-text; version=1.0.0; charset=utf-8") ==
        ExpositionFormat::kOpenMetrics1);
  CHECK(ExpositionFormatFor("Application/OpenMetrics-Text") == ExpositionFormat::kOpenMetrics1);
  CHECK(ExpositionFormatFor("text/plain; version=0.0.4; charset=utf-8") ==
        ExpositionFormat::kText004);
  CHECK(ExpositionFormatFor("") == ExpositionFormat::kText004);
  CHECK(ExpositionFormatFor("application/json") == ExpositionFormat::kText004);
}

size_t CountSamples(ExpositionParser& parser, std::string_view body) {
  parser.Reset(body, ExpositionFormat::kText004);
  size_t samples = 0;
  ExpositionParser::Entry e;
  while ((e = parser.Next()) != ExpositionParser::Entry::kEnd) {
    if (e == ExpositionParser::Entry::kError) return 0;
    if (e == ExpositionParser::Entry::kSample) ++samples;
  }
  return samples;
}

TEST_CASE("Steady state: a reused parser allocates nothing; parse speed") {
  std::string body = ReadData("node_exporter_1.5.txt");
  ExpositionParser parser;
  REQUIRE(CountSamples(parser, body) == 507);
  long before = g_allocations.load();
  size_t again = CountSamples(parser, body);
  long allocations = g_allocations.load() - before;
  CHECK(again == 507);
  CHECK(allocations == 0);

  size_t samples = 0;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = std::chrono::steady_clock::duration::zero();
  for (int round = 0; round < 20000 && elapsed < std::chrono::milliseconds(500); ++round) {
    samples += CountSamples(parser, body);
    elapsed = std::chrono::steady_clock::now() - start;
  }
  double seconds = std::chrono::duration<double>(elapsed).count();
  MESSAGE("parse speed on node_exporter output: " << samples / seconds / 1e6
                                                  << " M samples/s, "
                                                  << body.size() * (samples / 507) / seconds / 1e6
                                                  << " MB/s");
  CHECK(samples > 0);
}

}  // namespace
}  // namespace crmscope::agent
