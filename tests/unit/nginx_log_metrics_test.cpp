// The series the nginx_log source derives from access-log lines: values, labels, route
// templating, cardinality bounds and rejected lines.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "agent/sources/nginx_log/proxy_metrics.h"
#include "agent/sources/nginx_log/route_template.h"
#include "common/labels.h"
#include "crm_demo/launcher/access_log.h"

using namespace crmscope;
using namespace crmscope::agent;
using namespace crmscope::agent::nginx_log;

namespace {

class RecordingSink final : public SampleSink {
 public:
  void Add(const Labels& labels, double value) override {
    CHECK(ValidateLabels(labels) == "");
    samples[LabelsToString(labels)] = value;
  }
  void AddAt(const Labels& labels, TimestampMs, double value) override { Add(labels, value); }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view unit) override {
    kinds[std::string(family)] = kind;
    units[std::string(family)] = std::string(unit);
  }
  double Value(const std::string& series) const {
    auto it = samples.find(series);
    if (it == samples.end()) {
      FAIL_CHECK("no series " << series);
      return -1;
    }
    return it->second;
  }
  size_t CountWithPrefix(std::string_view prefix) const {
    size_t n = 0;
    for (const auto& [series, value] : samples) n += series.starts_with(prefix) ? 1 : 0;
    return n;
  }
  std::map<std::string, double> samples;
  std::map<std::string, MetricKind> kinds;
  std::map<std::string, std::string> units;
};

ProxyMetrics Make(std::string_view format_text, std::vector<RouteRule> rules = {},
                  ProxyMetricsOptions options = {}) {
  LogFormat format;
  RouteTemplater templater;
  std::string error;
  REQUIRE(LogFormat::Compile(format_text, &format, &error));
  REQUIRE(templater.AddRules(rules, &error));
  return ProxyMetrics(std::move(format), std::move(templater), std::move(options));
}

void Add(ProxyMetrics& metrics, std::string_view line) {
  std::string_view reason;
  bool ok = metrics.AddLine(line, &reason);
  INFO(line << " -> " << reason);
  CHECK(ok);
}

std::string Route(std::string_view path, const std::vector<RouteRule>& rules = {}) {
  RouteTemplater templater;
  std::string error, route;
  REQUIRE(templater.AddRules(rules, &error));
  templater.Template(path, &route);
  return route;
}

const std::string kDemoFormat = launcher::AccessLogFormatDirective();

}  // namespace

TEST_CASE("demo lines: requests by final upstream, attempts per item, histograms, bytes, stages") {
  ProxyMetrics metrics = Make(kDemoFormat);
  // A retry: 4001 failed with 502, 4002 answered 200.
  Add(metrics,
      "1.000\tGET\t/api/customers/42\t200\t0.310\t127.0.0.1:4001, 127.0.0.1:4002\t502, 200\t"
      "0.001, 0.000\t-, 0.300\t0.002, 0.301\t1500\tcache;dur=0.012, db;dur=0.310");
  Add(metrics,
      "1.001\tGET\t/api/customers/7\t200\t0.004\t127.0.0.1:4002\t200\t0.000\t0.003\t0.004\t500\t"
      "cache;dur=1, db;dur=2");
  // nginx answered by itself: no upstream, no attempt.
  Add(metrics, "1.002\tGET\t/favicon.ico\t404\t0.000\t-\t-\t-\t-\t-\t153\t-");
  RecordingSink sink;
  metrics.Emit(sink);

  CHECK(sink.Value("crmscope_proxy_requests_total{method=\"GET\", route=\"/api/customers/{id}\", "
                   "status=\"200\", upstream=\"127.0.0.1:4002\"}") == 2);
  CHECK(sink.Value("crmscope_proxy_requests_total{method=\"GET\", route=\"/favicon.ico\", "
                   "status=\"404\"}") == 1);
  CHECK(sink.CountWithPrefix("crmscope_proxy_requests_total{") == 2);

  CHECK(sink.Value("crmscope_proxy_upstream_attempts_total{status=\"502\", "
                   "upstream=\"127.0.0.1:4001\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_attempts_total{status=\"200\", "
                   "upstream=\"127.0.0.1:4002\"}") == 2);
  CHECK(sink.CountWithPrefix("crmscope_proxy_upstream_attempts_total{") == 2);

  const std::string customers =
      "method=\"GET\", route=\"/api/customers/{id}\", upstream=\"127.0.0.1:4002\"}";
  // le is inclusive, as in Prometheus: 0.004 is in le=0.005, 0.310 first in le=0.5.
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"0.0025\", " + customers) ==
        0);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"0.005\", " + customers) ==
        1);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"0.25\", " + customers) ==
        1);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"0.5\", " + customers) == 2);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"+Inf\", " + customers) ==
        2);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_count{" + customers) == 2);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_sum{" + customers) ==
        doctest::Approx(0.314));
  CHECK(sink.Value("crmscope_proxy_response_bytes_total{" + customers) == 2000);

  CHECK(sink.Value("crmscope_proxy_stage_duration_seconds_sum{method=\"GET\", "
                   "route=\"/api/customers/{id}\", stage=\"db\", upstream=\"127.0.0.1:4002\"}") ==
        doctest::Approx(0.00231));  // dur is in milliseconds
  CHECK(sink.Value("crmscope_proxy_stage_duration_seconds_count{method=\"GET\", "
                   "route=\"/api/customers/{id}\", stage=\"cache\", "
                   "upstream=\"127.0.0.1:4002\"}") == 2);

  // Per attempt: 4001's response took 0.002, 4002's 0.301 and 0.004; 4001 has no header time.
  CHECK(sink.Value("crmscope_proxy_upstream_response_duration_seconds_count{upstream=\"127.0.0.1:"
                   "4001\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_response_duration_seconds_bucket{le=\"0.0025\", "
                   "upstream=\"127.0.0.1:4001\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_response_duration_seconds_sum{upstream=\"127.0.0.1:"
                   "4002\"}") == doctest::Approx(0.305));
  CHECK(sink.Value("crmscope_proxy_upstream_header_duration_seconds_count{upstream=\"127.0.0.1:"
                   "4001\"}") == 0);
  CHECK(sink.Value("crmscope_proxy_upstream_header_duration_seconds_count{upstream=\"127.0.0.1:"
                   "4002\"}") == 2);
  CHECK(sink.Value("crmscope_proxy_upstream_connect_duration_seconds_count{upstream=\"127.0.0.1:"
                   "4001\"}") == 1);

  CHECK(sink.kinds["crmscope_proxy_requests_total"] == MetricKind::kCounter);
  CHECK(sink.kinds["crmscope_proxy_request_duration_seconds"] == MetricKind::kHistogram);
  CHECK(sink.kinds["crmscope_proxy_stage_duration_seconds"] == MetricKind::kSummary);
  CHECK(sink.units["crmscope_proxy_response_bytes_total"] == "bytes");
}

TEST_CASE("a redirect to another upstream group (\" : \") counts every attempt, the last wins") {
  ProxyMetrics metrics = Make("$status $upstream_addr $upstream_status $uri");
  Add(metrics, "200 10.0.0.1:80, 10.0.0.2:80 : 10.0.1.1:80 502, 504 : 200 /x");
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_requests_total{route=\"/x\", status=\"200\", "
                   "upstream=\"10.0.1.1:80\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_attempts_total{status=\"502\", "
                   "upstream=\"10.0.0.1:80\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_attempts_total{status=\"504\", "
                   "upstream=\"10.0.0.2:80\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_upstream_attempts_total{status=\"200\", "
                   "upstream=\"10.0.1.1:80\"}") == 1);
  // The format has no times: no histogram families.
  CHECK(sink.CountWithPrefix("crmscope_proxy_request_duration") == 0);
  CHECK(sink.CountWithPrefix("crmscope_proxy_upstream_response") == 0);
}

TEST_CASE("malformed lines are rejected with a reason and change no series") {
  ProxyMetrics metrics = Make(kDemoFormat);
  std::string_view reason;
  CHECK_FALSE(metrics.AddLine("not a log line", &reason));
  CHECK(reason == "does not match the log_format");
  CHECK_FALSE(metrics.AddLine("1.0\tGET\t/\tOK\t0.1\t-\t-\t-\t-\t-\t0\t-", &reason));
  CHECK(reason == "$status is not an HTTP status");
  CHECK_FALSE(metrics.AddLine("1.0\tGET\t/\t200\t0.1\t-\t-\t-\t-\t-\t0", &reason));
  // '-' and unparsable numbers are left out, the request still counts.
  Add(metrics, "-\t-\t-\t200\t-\t-\t-\t-\t-\t-\t-\t-");
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_requests_total{status=\"200\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_count{}") == 0);
  CHECK(sink.Value("crmscope_proxy_response_bytes_total{}") == 0);
  CHECK(sink.CountWithPrefix("crmscope_proxy_requests_total") == 1);
}

TEST_CASE("combined format: method and route from $request, junk methods become other") {
  ProxyMetrics metrics = Make(
      "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
      "\"$http_referer\" \"$http_user_agent\"");
  Add(metrics,
      "10.0.0.9 - - [27/Nov/2024:10:00:00 +0000] \"GET /api/tickets/9?x=1 HTTP/1.1\" 200 10 "
      "\"-\" \"curl/7.88\"");
  Add(metrics,
      "10.0.0.9 - - [27/Nov/2024:10:00:01 +0000] \"\\x16\\x03\\x01 /x HTTP/1.1\" 400 0 \"-\" "
      "\"-\"");
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_requests_total{method=\"GET\", route=\"/api/tickets/{id}\", "
                   "status=\"200\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_requests_total{method=\"other\", route=\"/x\", "
                   "status=\"400\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_response_bytes_total{method=\"GET\", "
                   "route=\"/api/tickets/{id}\"}") == 10);
}

TEST_CASE("default route templating: numeric and UUID segments, query dropped") {
  CHECK(Route("/api/customers/123") == "/api/customers/{id}");
  CHECK(Route("/api/customers/123/orders?limit=5") == "/api/customers/{id}/orders");
  CHECK(Route("/api/files/1b4e28ba-2fa1-11d2-883f-0016a1b2c3d4/raw") == "/api/files/{id}/raw");
  CHECK(Route("/api/files/1b4e28ba-2fa1-11d2-883f-0016a1b2c3d") ==
        "/api/files/1b4e28ba-2fa1-11d2-883f-0016a1b2c3d");  // 35 characters: not a UUID
  CHECK(Route("/api/v2/items/12abc") == "/api/v2/items/12abc");
  CHECK(Route("/") == "/");
  CHECK(Route("/a//7/") == "/a//{id}/");
  CHECK(Route("/search?q=/1/2") == "/search");
}

TEST_CASE("route rules: anchored RE2, first match wins, \\1 in the template, else the default") {
  std::vector<RouteRule> rules = {
      {"/api/v[0-9]+/(customers|tickets)/[^/]+", "/api/vN/\\1/{id}"},
      {"/api/v1/customers/[^/]+", "/never/reached"},  // the first rule takes these
      {"/static/.*", "/static"},
  };
  CHECK(Route("/api/v1/customers/abc-9?x=1", rules) == "/api/vN/customers/{id}");
  CHECK(Route("/api/v3/tickets/T-7", rules) == "/api/vN/tickets/{id}");
  CHECK(Route("/static/app.js", rules) == "/static");
  CHECK(Route("/prefix/static/app.js", rules) == "/prefix/static/app.js");  // anchored
  CHECK(Route("/api/v1/customers/1/orders", rules) == "/api/v1/customers/{id}/orders");

  RouteTemplater templater;
  std::string error;
  CHECK_FALSE(templater.AddRules({{"(", "x"}}, &error));
  CHECK(error.find("regex") != std::string::npos);
  CHECK_FALSE(templater.AddRules({{"/a/(b)", "\\2"}}, &error));
  CHECK(error.find("template") != std::string::npos);

  RouteRule rule;
  CHECK(ParseRouteRuleFlag("/q/a=b/.*=/q/{x}", &rule, &error));
  CHECK(rule.regex == "/q/a=b/.*");
  CHECK(rule.route_template == "/q/{x}");
  CHECK_FALSE(ParseRouteRuleFlag("no-equals", &rule, &error));
}

TEST_CASE("routes past max_routes, and routes that are not UTF-8, become route=\"other\"") {
  ProxyMetricsOptions options;
  options.max_routes = 3;
  ProxyMetrics metrics = Make("$status $uri", {}, options);
  for (std::string_view path : {"/a", "/b", "/c", "/d", "/e", "/a", "/bad\\xFF"}) {
    Add(metrics, "200 " + std::string(path));
  }
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_requests_total{route=\"/a\", status=\"200\"}") == 2);
  CHECK(sink.Value("crmscope_proxy_requests_total{route=\"/c\", status=\"200\"}") == 1);
  CHECK(sink.Value("crmscope_proxy_requests_total{route=\"other\", status=\"200\"}") == 3);
  CHECK(sink.CountWithPrefix("crmscope_proxy_requests_total{") == 4);
}

TEST_CASE("an escaped path is unescaped before templating") {
  ProxyMetrics metrics = Make("$status $uri");
  Add(metrics, "200 /caf\\xC3\\xA9/12");
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_requests_total{route=\"/caf\xC3\xA9/{id}\", status=\"200\"}") ==
        1);
}

TEST_CASE("configured buckets are used, and every bucket is emitted cumulatively") {
  ProxyMetricsOptions options;
  options.request_buckets = {0.1, 1};
  ProxyMetrics metrics = Make("$status $request_time", {}, options);
  for (std::string_view t : {"0.050", "0.100", "0.500", "2.000"}) {
    Add(metrics, "200 " + std::string(t));
  }
  RecordingSink sink;
  metrics.Emit(sink);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"0.1\"}") == 2);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"1\"}") == 3);
  CHECK(sink.Value("crmscope_proxy_request_duration_seconds_bucket{le=\"+Inf\"}") == 4);
  CHECK(sink.CountWithPrefix("crmscope_proxy_request_duration_seconds_bucket") == 3);
}
