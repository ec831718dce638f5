// The collector's query endpoints: result JSON, parameters and errors, /federate, exemplars and
// build info. Every expected byte string below was first answered by Prometheus 2.42 given the
// same data and request (tests/integration/query_api_prometheus_test.sh compares live).
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/api_server.h"
#include "collector/api/buildinfo_handler.h"
#include "collector/api/exemplars_handler.h"
#include "collector/api/federate_handler.h"
#include "collector/api/query_params.h"
#include "collector/api/query_result_json.h"
#include "collector/config.h"
#include "collector/storage/storage.h"
#include "common/time.h"

using namespace crmscope;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmscope-query-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct OpenStorage {
  TempDir dir;
  std::unique_ptr<storage::Storage> storage;
  OpenStorage() {
    storage::Options options;
    options.path = dir.path.string();
    options.registry = std::make_shared<prometheus::Registry>();
    std::string error;
    storage = storage::Storage::Open(options, &error);
    REQUIRE_MESSAGE(storage, error);
  }
  void Write(std::vector<LabelView> labels, const std::vector<Sample>& samples) {
    std::sort(labels.begin(), labels.end(),
              [](const LabelView& a, const LabelView& b) { return a.name < b.name; });
    storage::Appender appender(storage.get());
    appender.Append(labels.data(), labels.size(), samples.data(), samples.size());
    std::string error;
    REQUIRE_MESSAGE(appender.Commit(&error), error);
    REQUIRE(appender.stats().rejected_total() == 0);
  }
};

std::string Json(const promql::Value& value) {
  std::string out;
  REQUIRE(api::AppendQueryResultJson(value, &out));
  return out;
}

api::FormValues Form(const std::string& query_string) {
  return api::FormValues::FromQueryString(query_string);
}

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct HttpResult {
  long status = 0;
  std::string body;
};

HttpResult Http(const std::string& url, const std::string& post_body = "",
                bool post = false) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  REQUIRE(curl);
  HttpResult result;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  if (post) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body.size()));
  }
  CURLcode code = curl_easy_perform(curl.get());
  REQUIRE_MESSAGE(code == CURLE_OK, std::string(curl_easy_strerror(code)));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

// A running API over an open storage, on a loopback port the kernel picks.
struct Collector {
  OpenStorage data;
  std::unique_ptr<api::ApiServer> server;
  std::string base;
  explicit Collector(bool ready = true, api::ApiOptions options = {}) {
    options.http.listen_address = "127.0.0.1:0";
    options.http.num_threads = 8;
    options.registry = std::make_shared<prometheus::Registry>();
    std::string error;
    server = api::ApiServer::Start(options, &error);
    REQUIRE_MESSAGE(server, error);
    if (ready) server->SetStorage(data.storage.get());
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  ~Collector() { server.reset(); }
  HttpResult Get(const std::string& path) { return Http(base + path); }
  HttpResult Post(const std::string& path, const std::string& form) {
    return Http(base + path, form, true);
  }
};

}  // namespace

TEST_CASE("query_result_json: vectors and matrices as Prometheus 2.42's sample encoder writes") {
  promql::Vector odd = {
      {{{"__name__", "odd_values"}, {"kind", "huge"}}, 1795781100000, 4.1e22},
      {{{"__name__", "odd_values"}, {"kind", "inf"}}, 1795781100000, -HUGE_VAL},
      {{{"__name__", "odd_values"}, {"kind", "nan"}}, 1795781100000, std::nan("")},
      {{{"__name__", "odd_values"}, {"kind", "neg"}}, 1795781100000, -1.5 / 41},
      {{{"__name__", "odd_values"}, {"kind", "tiny"}}, 1795781100000, 1e-7 * 41},
  };
  CHECK(Json(odd) ==
        R"({"resultType":"vector","result":[{"metric":{"__name__":"odd_values","kind":"huge"},"value":[1795781100,"4.1e+22"]},)"
        R"({"metric":{"__name__":"odd_values","kind":"inf"},"value":[1795781100,"-Inf"]},)"
        R"({"metric":{"__name__":"odd_values","kind":"nan"},"value":[1795781100,"NaN"]},)"
        R"({"metric":{"__name__":"odd_values","kind":"neg"},"value":[1795781100,"-0.036585365853658534"]},)"
        R"({"metric":{"__name__":"odd_values","kind":"tiny"},"value":[1795781100,"0.0000041"]}]})");

  promql::Vector escaped = {{{{"__name__", "temperature"},
                              {"job", "sensor"},
                              {"room", "a<b>&c\"d\\e\nf"},
                              {"unit", "°C"}},
                             1795781100500,
                             24}};
  CHECK(Json(escaped) ==
        R"({"resultType":"vector","result":[{"metric":{"__name__":"temperature","job":"sensor","room":"a\u003cb\u003e\u0026c\"d\\e\nf","unit":"°C"},"value":[1795781100.500,"24"]}]})");
  CHECK(Json(promql::Vector{}) == R"({"resultType":"vector","result":[]})");

  promql::Matrix constant = {{{}, {{1500, 1}, {2500, 1}, {3500, 1}}}};
  CHECK(Json(constant) ==
        R"({"resultType":"matrix","result":[{"metric":{},"values":[[1.500,"1"],[2.500,"1"],[3.500,"1"]]}]})");
  promql::Matrix two = {{{{"a", "1"}}, {{-1050, 0.5}}}, {{{"a", "2"}}, {}}};
  CHECK(Json(two) ==
        R"({"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[-1.050,"0.5"]]},{"metric":{"a":"2"}}]})");
  CHECK(Json(promql::Matrix{}) == R"({"resultType":"matrix","result":[]})");

  std::string untouched = "x";
  CHECK_FALSE(api::AppendQueryResultJson(promql::Value{}, &untouched));
  CHECK(untouched == "x");
}

TEST_CASE("query_result_json: scalars and strings as Prometheus 2.42's encoding/json writes") {
  CHECK(Json(promql::Scalar{1500, 2}) == R"({"resultType":"scalar","result":[1.5,"2"]})");
  CHECK(Json(promql::Scalar{1700000000123, 2}) ==
        R"({"resultType":"scalar","result":[1700000000.123,"2"]})");
  CHECK(Json(promql::Scalar{1, 1e-7}) ==
        R"({"resultType":"scalar","result":[0.001,"0.0000001"]})");
  CHECK(Json(promql::Scalar{-1500, 1e21}) ==
        R"({"resultType":"scalar","result":[-1.5,"1000000000000000000000"]})");
  CHECK(Json(promql::Scalar{1795782350981, -HUGE_VAL}) ==
        R"({"resultType":"scalar","result":[1795782350.981,"-Inf"]})");
  CHECK(Json(promql::Scalar{0, std::nan("")}) == R"({"resultType":"scalar","result":[0,"NaN"]})");
  CHECK(Json(promql::String{1500, "a<b"}) ==
        R"({"resultType":"string","result":[1.5,"a\u003cb"]})");
  CHECK(Json(promql::String{10000, "\xff\n"}) ==
        R"({"resultType":"string","result":[10,"\ufffd\n"]})");
}

TEST_CASE("query_result_json: the number pieces") {
  auto sample_ts = [](TimestampMs t) {
    std::string s;
    api::AppendSampleTimestamp(t, &s);
    return s;
  };
  CHECK(sample_ts(0) == "0");
  CHECK(sample_ts(1) == "0.001");
  CHECK(sample_ts(10) == "0.010");
  CHECK(sample_ts(-1) == "-0.001");
  CHECK(sample_ts(1700000000000) == "1700000000");
  CHECK(sample_ts(INT64_MIN) == "-9223372036854775.808");
  auto sample_value = [](double v) {
    std::string s;
    api::AppendSampleValue(v, &s);
    return s;
  };
  CHECK(sample_value(0.1 + 0.2) == "0.30000000000000004");
  CHECK(sample_value(1e21) == "1e+21");
  CHECK(sample_value(9.99e20) == "999000000000000000000");
  CHECK(sample_value(1e-6) == "0.000001");
  CHECK(sample_value(9e-7) == "9e-07");
  CHECK(sample_value(-0.0) == "-0");
  CHECK(sample_value(HUGE_VAL) == "+Inf");
  CHECK(sample_value(-7) == "-7");
  CHECK(sample_value(123456789) == "123456789");
  CHECK(sample_value(9007199254740991.0) == "9007199254740991");  // 2^53 - 1, whole-number path
  CHECK(sample_value(9007199254740992.0) == "9007199254740992");  // 2^53, through to_chars
  CHECK(sample_value(1e20) == "100000000000000000000");
  CHECK(sample_value(12345.678) == "12345.678");
  CHECK(sample_ts(INT64_MAX) == "9223372036854775.807");
  CHECK(sample_ts(-1050) == "-1.050");
  CHECK(sample_ts(1700000000007) == "1700000000.007");
  auto scalar_value = [](double v) {
    std::string s;
    api::AppendScalarValue(v, &s);
    return s;
  };
  CHECK(scalar_value(5e-324).size() == 326);  // 0.000…5: 'f' form all the way down
  CHECK(scalar_value(-1.7976931348623157e308).size() == 310);
  std::string plain;
  api::AppendJsonText("plain text_123", &plain);
  CHECK(plain == R"("plain text_123")");
}

TEST_CASE("query_params: instant query parameters and Prometheus's messages") {
  api::InstantQueryParams p;
  api::ApiError error;
  const auto form = Form("query=up&time=1.5");  // p.query points into it
  REQUIRE(api::ParseInstantQueryParams(form, 99, &p, &error));
  CHECK(p.query == "up");
  CHECK(p.time == 1500);
  CHECK_FALSE(p.timeout_ns);
  REQUIRE(api::ParseInstantQueryParams(Form("query=up&time="), 99, &p, &error));
  CHECK(p.time == 99);  // empty means now, as absent does
  REQUIRE(api::ParseInstantQueryParams(Form("time=2026-01-01T01:00:00%2B01:00&timeout=1m30s"),
                                       0, &p, &error));
  CHECK(p.time == 1767225600000);
  CHECK(*p.timeout_ns == 90'000'000'000);
  CHECK(p.query.empty());

  CHECK_FALSE(api::ParseInstantQueryParams(Form("query=1&time=x"), 0, &p, &error));
  CHECK(error.message ==
        "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"x\" to a "
        "valid timestamp");
  CHECK_FALSE(api::ParseInstantQueryParams(Form("query=1&timeout=x"), 0, &p, &error));
  CHECK(error.message == "invalid parameter \"timeout\": cannot parse \"x\" to a valid duration");
  CHECK_FALSE(api::ParseInstantQueryParams(Form("query=1&timeout=-1s"), 0, &p, &error));
  CHECK(error.message ==
        "invalid parameter \"timeout\": cannot parse \"-1s\" to a valid duration");
  CHECK_FALSE(api::ParseInstantQueryParams(Form("query=1&timeout=1e300"), 0, &p, &error));
  CHECK(error.message ==
        "invalid parameter \"timeout\": cannot parse \"1e300\" to a valid duration. It "
        "overflows int64");
  CHECK(error.type == api::ErrorType::kBadData);
}

TEST_CASE("query_params: range query parameters in Prometheus's order of checks") {
  api::RangeQueryParams p;
  api::ApiError error;
  auto fails_with = [&](const std::string& query_string) {
    bool ok = api::ParseRangeQueryParams(Form(query_string), &p, &error);
    CHECK_MESSAGE(!ok, query_string);
    CHECK(error.type == api::ErrorType::kBadData);
    return error.message;
  };
  CHECK(fails_with("query=1") ==
        "invalid parameter \"start\": cannot parse \"\" to a valid timestamp");
  CHECK(fails_with("start=x") ==
        "invalid parameter \"start\": cannot parse \"x\" to a valid timestamp");
  CHECK(fails_with("start=1") ==
        "invalid parameter \"end\": cannot parse \"\" to a valid timestamp");
  CHECK(fails_with("start=1&end=0&step=x") ==
        "invalid parameter \"end\": end timestamp must not be before start time");
  CHECK(fails_with("start=1&end=2") ==
        "invalid parameter \"step\": cannot parse \"\" to a valid duration");
  const std::string zero_step =
      "invalid parameter \"step\": zero or negative query resolution step widths are not "
      "accepted. Try a positive integer";
  CHECK(fails_with("start=1&end=2&step=0") == zero_step);
  CHECK(fails_with("start=1&end=2&step=-1") == zero_step);
  CHECK(fails_with("start=1&end=2&step=NaN") == zero_step);
  CHECK(fails_with("start=2026-01-01T00:00:00Z&end=2026-01-01T00:02:00.5Z&step=1e10") ==
        "invalid parameter \"step\": cannot parse \"1e10\" to a valid duration. It overflows "
        "int64");
  const std::string too_many =
      "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
      "resolution (?step=XX)";
  CHECK(fails_with("start=0&end=11001&step=1") == too_many);
  CHECK(fails_with("start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z"
                   "&step=1m") == too_many);
  CHECK(fails_with("start=0&end=1&step=1&timeout=x") ==
        "invalid parameter \"timeout\": cannot parse \"x\" to a valid duration");

  REQUIRE(api::ParseRangeQueryParams(Form("query=up&start=0&end=11000.999&step=1"), &p, &error));
  CHECK(p.end == 11000999);
  CHECK(p.step_ns == 1'000'000'000);
  REQUIRE(api::ParseRangeQueryParams(Form("query=up&start=1.5&end=3.5&step=1.5&timeout=0.0001"),
                                     &p, &error));
  CHECK(p.step_ns == 1'500'000'000);
  CHECK(*p.timeout_ns == 100'000);
  REQUIRE(api::ParseRangeQueryParams(Form("start=0&end=1&step=0.0001"), &p, &error));
  CHECK(p.step_ns == 100'000);
}

TEST_CASE("query_params: durations and the timeout the engine is given") {
  int64_t ns = 0;
  std::string error;
  CHECK(api::ParseDurationNs("15s", &ns, &error));
  CHECK(ns == 15'000'000'000);
  CHECK(api::ParseDurationNs("1h30m", &ns, &error));
  CHECK(ns == 5'400'000'000'000);
  CHECK(api::ParseDurationNs("0.25", &ns, &error));
  CHECK(ns == 250'000'000);
  CHECK(api::ParseDurationNs("0", &ns, &error));
  CHECK(ns == 0);
  CHECK_FALSE(api::ParseDurationNs(" 1", &ns, &error));
  CHECK_FALSE(api::ParseDurationNs("1m1h", &ns, &error));
  CHECK_FALSE(api::ParseDurationNs("300y", &ns, &error));  // beyond int64 nanoseconds
  CHECK(error == "cannot parse \"300y\" to a valid duration");
  CHECK_FALSE(api::ParseDurationNs("Inf", &ns, &error));
  CHECK(error == "cannot parse \"Inf\" to a valid duration. It overflows int64");

  CHECK(api::EffectiveTimeoutMs(100'000, 120'000) == 1);  // under 1ms still has time
  CHECK(api::EffectiveTimeoutMs(2'500'000'000, 120'000) == 2500);
  CHECK(api::EffectiveTimeoutMs(600'000'000'000, 120'000) == 120'000);  // the engine's limit
  CHECK(api::EffectiveTimeoutMs(0, 120'000) == 0);
  CHECK(api::EffectiveTimeoutMs(-5, 120'000) == 0);
}

TEST_CASE("federate: newest sample within the lookback, grouped by name, as text 0.0.4") {
  OpenStorage s;
  const TimestampMs now = NowMs() / 1000 * 1000;
  s.Write({{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "b"}, {"code", "200"}},
          {{now - 30000, 3599}, {now - 15000, 3600.25}});
  s.Write({{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "a"}, {"code", "200"}},
          {{now - 15000, 200}});
  s.Write({{"__name__", "temperature"},
           {"job", "sensor"},
           {"room", "a<b>&c\"d\\e\nf"},
           {"unit", "°C"}},
          {{now - 1000, 32}});
  s.Write({{"__name__", "flappy"}, {"job", "api"}}, {{now - 20000, 1}, {now - 10000, 120}});
  s.Write({{"__name__", "odd_values"}, {"kind", "huge"}}, {{now - 5000, 1.21e23}});
  s.Write({{"__name__", "odd_values"}, {"kind", "tiny"}}, {{now - 5000, 1.21e-5}});
  s.Write({{"__name__", "odd_values"}, {"kind", "zero"}}, {{now - 5000, -0.0}});
  s.Write({{"__name__", "odd_values"}, {"kind", "inf"}}, {{now - 5000, -HUGE_VAL}});
  s.Write({{"__name__", "odd_values"}, {"kind", "nan"}}, {{now - 5000, std::nan("")}});
  s.Write({{"__name__", "gone"}, {"job", "api"}}, {{now - 20000, 1}, {now - 10000, StaleNaN()}});
  s.Write({{"__name__", "old"}, {"job", "api"}}, {{now - 301000, 1}});

  api::FormValues form =
      Form("match[]=%7Bjob%3D~%22.%2B%22%7D&match[]=http_requests_total&match[]=odd_values"
           "&match[]=old");
  api::HttpResponse r = api::HandleFederate(form, *s.storage, now, 300000);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  std::string t = " " + std::to_string(now - 15000) + "\n";
  std::string t5 = " " + std::to_string(now - 5000) + "\n";
  CHECK(r.body == "# TYPE flappy untyped\n"
                  "flappy{job=\"api\",instance=\"\"} 120 " + std::to_string(now - 10000) + "\n"
                  "# TYPE http_requests_total untyped\n"
                  "http_requests_total{code=\"200\",instance=\"a\",job=\"api\"} 200" + t +
                  "http_requests_total{code=\"200\",instance=\"b\",job=\"api\"} 3600.25" + t +
                  "# TYPE odd_values untyped\n"
                  "odd_values{kind=\"huge\",instance=\"\"} 1.21e+23" + t5 +
                  "odd_values{kind=\"inf\",instance=\"\"} -Inf" + t5 +
                  "odd_values{kind=\"nan\",instance=\"\"} NaN" + t5 +
                  "odd_values{kind=\"tiny\",instance=\"\"} 1.21e-05" + t5 +
                  "odd_values{kind=\"zero\",instance=\"\"} 0" + t5 +
                  "# TYPE temperature untyped\n"
                  "temperature{job=\"sensor\",room=\"a<b>&c\\\"d\\\\e\\nf\",unit=\"°C\","
                  "instance=\"\"} 32 " + std::to_string(now - 1000) + "\n");

  // The lookback moves with now: a minute later only the temperature is recent enough.
  api::HttpResponse later = api::HandleFederate(form, *s.storage, now + 299000, 300000);
  CHECK(later.body.find("# TYPE temperature untyped\n") == 0);
  CHECK(later.body.find("flappy") == std::string::npos);

  CHECK(api::HandleFederate(Form(""), *s.storage, now, 300000).body.empty());
  CHECK(api::HandleFederate(Form("match[]=%7B%7D"), *s.storage, now, 300000).body.empty());
  api::HttpResponse all =
      api::HandleFederate(Form("match[]=%7Ba%3D%22%22%7D"), *s.storage, now, 300000);
  CHECK(all.body.find("# TYPE flappy untyped") == 0);

  api::HttpResponse bad = api::HandleFederate(Form("match[]=up%7B"), *s.storage, now, 300000);
  CHECK(bad.status == 400);
  CHECK(bad.body == "1:4: parse error: unexpected end of input inside braces\n");
  api::HttpResponse not_selector =
      api::HandleFederate(Form("match[]=rate(up%5B5m%5D)"), *s.storage, now, 300000);
  CHECK(not_selector.status == 400);
  CHECK(not_selector.body == "1:5: parse error: unexpected \"(\"\n");
  api::HttpResponse bad_form = api::HandleFederate(Form("match[]=%zz"), *s.storage, now, 300000);
  CHECK(bad_form.status == 400);
  CHECK(bad_form.body == "error parsing form values: invalid URL escape \"%zz\"\n");
}

TEST_CASE("exemplars: none stored, but the parameters are checked as Prometheus checks them") {
  api::HttpResponse r = api::HandleQueryExemplars(Form("query=up"));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"success","data":[]})");
  api::HttpResponse no_selector = api::HandleQueryExemplars(Form("query=1%2B1"));
  CHECK(no_selector.status == 204);
  CHECK(no_selector.body.empty());
  CHECK(api::HandleQueryExemplars(Form("query=sum(rate(x%5B5m%5D))")).status == 200);

  auto error = [](const std::string& query_string) {
    api::HttpResponse e = api::HandleQueryExemplars(Form(query_string));
    CHECK(e.status == 400);
    return e.body;
  };
  CHECK(error("query=up&start=10&end=5") ==
        R"({"status":"error","errorType":"bad_data","error":"end timestamp must not be before start timestamp"})");
  CHECK(error("query=up&start=x") ==
        R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"})");
  CHECK(error("query=up%2B") ==
        R"({"status":"error","errorType":"bad_data","error":"1:4: parse error: unexpected end of input"})");
  CHECK(error("") ==
        R"({"status":"error","errorType":"bad_data","error":"1:1: parse error: no expression found in input"})");
}

TEST_CASE("buildinfo: Prometheus's fields, a 2.42.0 version Grafana can compare, and whose") {
  api::HttpResponse r = api::HandleBuildInfo("0.1.0");
  CHECK(r.status == 200);
  CHECK(r.body ==
        R"({"status":"success","data":{"version":"2.42.0+crmscope.0.1.0","revision":"","branch":"",)"
        R"("buildUser":"","buildDate":"","goVersion":"","application":"crmscope-collector"}})");
}

TEST_CASE("routes: methods and readiness of the new endpoints") {
  Collector not_ready(false);
  CHECK(not_ready.Get("/api/v1/status/buildinfo").status == 503);
  CHECK(not_ready.Get("/federate?match[]=up").status == 503);

  Collector c;
  HttpResult info = c.Get("/api/v1/status/buildinfo");
  CHECK(info.status == 200);
  CHECK(info.body.find(R"("version":"2.42.0+crmscope.)") != std::string::npos);
  CHECK(c.Post("/api/v1/status/buildinfo", "").status == 405);
  CHECK(c.Post("/federate", "match[]=up").status == 405);
  CHECK(c.Get("/federate?match[]=up").status == 200);
  CHECK(c.Post("/api/v1/query_exemplars", "query=up").body == R"({"status":"success","data":[]})");
}

TEST_CASE("query: Grafana's health check, an instant query of 1+1, answers a scalar") {
  Collector c;
  HttpResult at = c.Get("/api/v1/query?query=1%2B1&time=1.5");
  CHECK(at.status == 200);
  CHECK(at.body == R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}})");
  HttpResult now = c.Post("/api/v1/query", "query=1%2B1");
  CHECK(now.status == 200);
  CHECK(now.body.rfind(R"({"status":"success","data":{"resultType":"scalar","result":[)", 0) == 0);
  CHECK(now.body.find(R"(,"2"]}})") == now.body.size() - 7);
}

TEST_CASE("query: instant and range answers over stored samples") {
  Collector c;
  const TimestampMs base = NowMs() / 60000 * 60000 - 600000;
  for (std::string_view instance : {"b", "a"}) {
    std::vector<Sample> samples;
    for (int i = 0; i <= 8; ++i) samples.push_back({base + i * 15000, i * (instance == "a" ? 1.0 : 0.5)});
    c.data.Write({{"__name__", "x_total"}, {"job", "crm"}, {"instance", instance}}, samples);
  }
  const std::string t = std::to_string(base / 1000);
  HttpResult vector = c.Get("/api/v1/query?query=x_total&time=" + t + ".05");
  CHECK(vector.status == 200);
  CHECK(vector.body ==
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"__name__":"x_total","instance":"a","job":"crm"},"value":[)" + t +
        R"(.050,"0"]},{"metric":{"__name__":"x_total","instance":"b","job":"crm"},"value":[)" + t +
        R"(.050,"0"]}]}})");

  HttpResult range = c.Post("/api/v1/query_range", "query=sum(x_total)&start=" + t +
                                                       "&end=" + std::to_string(base / 1000 + 60) +
                                                       "&step=30s");
  CHECK(range.status == 200);
  auto at = [&](int seconds) { return std::to_string(base / 1000 + seconds); };
  CHECK(range.body == R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},)"
                      R"("values":[[)" + t + R"(,"0"],[)" + at(30) + R"(,"3"],[)" + at(60) +
                          R"(,"6"]]}]}})");
  HttpResult empty = c.Get("/api/v1/query?query=nothing_here");
  CHECK(empty.body == R"({"status":"success","data":{"resultType":"vector","result":[]}})");
}

TEST_CASE("query: errors typed and coded as Prometheus 2.42 answers them") {
  Collector c;
  auto check = [&](const std::string& path, long status, const std::string& type,
                   const std::string& message_json) {
    HttpResult r = c.Get(path);
    CHECK_MESSAGE(r.status == status, path);
    CHECK(r.body == R"({"status":"error","errorType":")" + type + R"(","error":)" + message_json +
                        "}");
  };
  check("/api/v1/query?query=1%2B", 400, "bad_data",
        R"("invalid parameter \"query\": 1:3: parse error: unexpected end of input")");
  check("/api/v1/query", 400, "bad_data",
        R"("invalid parameter \"query\": 1:1: parse error: no expression found in input")");
  check("/api/v1/query?query=%7B%7D", 400, "bad_data",
        R"("invalid parameter \"query\": 1:1: parse error: vector selector must contain at least one non-empty matcher")");
  check("/api/v1/query_range?query=1%2B&start=1&end=2&step=1", 400, "bad_data",
        R"("1:3: parse error: unexpected end of input")");
  check("/api/v1/query_range?query=up%5B5m%5D&start=1&end=2&step=1", 400, "bad_data",
        R"("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector")");
  check("/api/v1/query_range?query=%22a%22&start=1&end=2&step=1", 400, "bad_data",
        R"("invalid expression type \"string\" for range query, must be Scalar or instant Vector")");
  check("/api/v1/query_range?query=1&start=0&end=11001&step=1", 400, "bad_data",
        R"x("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")x");
  check(R"x(/api/v1/query?query=label_replace(vector(1),"x","y","z","("))x", 422, "execution",
        R"x("invalid regular expression in label_replace(): (")x");
  check("/api/v1/query?query=1&timeout=0", 503, "timeout", R"("query timed out in query queue")");
  check("/api/v1/query_range?query=1&start=1&end=2&step=1&timeout=-1", 503, "timeout",
        R"("query timed out in query queue")");
  check("/api/v1/query?query=1%2B&timeout=0", 400, "bad_data",
        R"("invalid parameter \"query\": 1:3: parse error: unexpected end of input")");
  check("/api/v1/query_range?query=1&start=1&end=2&step=0.0001", 422, "execution",
        R"("unexpected error: runtime error: integer divide by zero")");
  CHECK(c.Get("/api/v1/query?query=1&timeout=0.0001").status == 200);
  CHECK(c.Post("/api/v1/query_range", "query=1").status == 400);  // no start
  CHECK(Http(c.base + "/api/v1/query", "", false).status == 400);
}

TEST_CASE("query: queries run while samples are being written, each answer complete") {
  Collector c;
  const TimestampMs base = NowMs() / 1000 * 1000 - 120000;
  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 200 && writing; ++i) {
      std::string instance = std::to_string(i % 10);
      c.data.Write({{"__name__", "load"}, {"instance", instance}}, {{base + i * 100, double(i)}});
      ++written;
    }
  });
  std::vector<std::thread> readers;
  std::atomic<int> answered{0}, failed{0};
  const std::string range = "/api/v1/query_range?query=count(load)&start=" +
                            std::to_string(base / 1000) + "&end=" +
                            std::to_string(base / 1000 + 60) + "&step=1";
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < 15; ++i) {
        HttpResult result = Http(c.base + range);
        bool ok = result.status == 200 &&
                  result.body.rfind(R"({"status":"success","data":{"resultType":"matrix")", 0) == 0;
        ++(ok ? answered : failed);
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  writing = false;
  writer.join();
  CHECK(failed == 0);
  CHECK(answered == 60);
  CHECK(written > 0);
  HttpResult final_count = c.Get("/api/v1/query?query=count(load)&time=" +
                                 std::to_string(base / 1000 + 60));
  CHECK(final_count.body.find(R"(,"10"]}]}})") != std::string::npos);
}

TEST_CASE("query flags: Prometheus's --query.* names and defaults reach the engine's options") {
  collector::Flags flags;
  collector::FlagAction action;
  std::string error;
  const char* defaults[] = {"crmscope-collector"};
  REQUIRE(collector::ParseFlags(1, defaults, &flags, &action, &error));
  CHECK(flags.query_timeout_ms == 120000);
  CHECK(flags.query_max_samples == 50000000);
  CHECK(flags.query_lookback_delta_ms == 300000);
  CHECK(flags.query_max_concurrency == 20);
  const char* set[] = {"crmscope-collector", "--query.timeout=30s", "--query.max-samples", "1000",
                       "--query.lookback-delta=1m", "--query.max-concurrency=4"};
  REQUIRE(collector::ParseFlags(6, set, &flags, &action, &error));
  CHECK(flags.query_timeout_ms == 30000);
  CHECK(flags.query_max_samples == 1000);
  CHECK(flags.query_lookback_delta_ms == 60000);
  CHECK(flags.query_max_concurrency == 4);
  const char* zero[] = {"crmscope-collector", "--query.max-concurrency=0"};
  CHECK_FALSE(collector::ParseFlags(2, zero, &flags, &action, &error));
  CHECK(error == "invalid value \"0\" for flag '--query.max-concurrency': must be at least 1");
  const char* word[] = {"crmscope-collector", "--query.max-samples=many"};
  CHECK_FALSE(collector::ParseFlags(2, word, &flags, &action, &error));
  CHECK(error ==
        "invalid value \"many\" for flag '--query.max-samples': strconv.ParseInt: parsing "
        "\"many\": invalid syntax");

  // The server hands its options to the engine it builds: a sample limit of 1 refuses a query
  // that loads two samples, with Prometheus's words.
  api::ApiOptions options;
  options.engine.max_samples = 1;
  Collector c(true, options);
  const TimestampMs now = NowMs() / 1000 * 1000;
  c.data.Write({{"__name__", "m"}, {"i", "1"}}, {{now - 1000, 1}});
  c.data.Write({{"__name__", "m"}, {"i", "2"}}, {{now - 1000, 2}});
  HttpResult r = c.Get("/api/v1/query?query=m&time=" + std::to_string(now / 1000));
  CHECK(r.status == 422);
  CHECK(r.body ==
        R"({"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"})");
}
