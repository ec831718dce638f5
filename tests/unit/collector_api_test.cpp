// The collector's HTTP surface end to end: a real Storage in a temp dir, the API on a loopback
// port chosen by the kernel, libcurl as the client. Expected answers were taken from Prometheus
// 2.42 given the same requests.
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "collector/api/api_params.h"
#include "collector/api/api_response.h"
#include "collector/api/api_server.h"
#include "collector/storage/storage.h"
#include "common/time.h"
#include "exporters/remote_write/codec.h"

using namespace crmscope;
namespace rw = crmscope::remote_write;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmscope-api-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct RequestSpec {
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  bool chunked = false;
  bool expect_continue = false;  // false: no "Expect: 100-continue", whatever the body size
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // status lines, interim ones included
    (*static_cast<std::map<std::string, std::string>*>(out))[":status-lines"] += line;
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

struct ChunkedBody {
  std::string_view remaining;
};

size_t ReadChunk(char* buffer, size_t size, size_t n, void* in) {
  auto* body = static_cast<ChunkedBody*>(in);
  size_t len = std::min({size * n, body->remaining.size(), size_t{100}});
  std::copy_n(body->remaining.data(), len, buffer);
  body->remaining.remove_prefix(len);
  return len;
}

HttpResult Http(const std::string& url, const RequestSpec& spec = {}) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  REQUIRE(curl);
  HttpResult result;
  curl_slist* raw_headers =
      curl_slist_append(nullptr, spec.expect_continue ? "Expect: 100-continue" : "Expect:");
  for (const std::string& h : spec.headers) raw_headers = curl_slist_append(raw_headers, h.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers,
                                                                      &curl_slist_free_all);
  ChunkedBody chunked{spec.body};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.headers);
  if (spec.method == "POST" && spec.chunked) {
    curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, &ReadChunk);
    curl_easy_setopt(curl.get(), CURLOPT_READDATA, &chunked);
    headers.reset(curl_slist_append(headers.release(), "Transfer-Encoding: chunked"));
  } else if (spec.method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, spec.body.data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(spec.body.size()));
  } else if (spec.method == "HEAD") {
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  } else if (spec.method != "GET") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, spec.method.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  CURLcode code = curl_easy_perform(curl.get());
  REQUIRE_MESSAGE(code == CURLE_OK, std::string(curl_easy_strerror(code)));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

const std::vector<std::string> kRemoteWriteHeaders = {"Content-Type: application/x-protobuf",
                                                      "Content-Encoding: snappy",
                                                      "X-Prometheus-Remote-Write-Version: 0.1.0"};

rw::TimeSeries Series(Labels labels, std::vector<Sample> samples) {
  SortLabels(labels);
  return {std::move(labels), std::move(samples)};
}

// A running collector API over a fresh storage.
struct Collector {
  TempDir dir;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<api::ApiServer> server;
  std::string base;

  explicit Collector(api::ApiOptions options = {}, bool ready = true) {
    storage::Options storage_options;
    storage_options.path = dir.path.string();
    storage_options.registry = registry;
    std::string error;
    storage = storage::Storage::Open(storage_options, &error);
    REQUIRE_MESSAGE(storage, error);
    options.http.listen_address = "127.0.0.1:0";
    options.http.num_threads = 4;
    options.registry = registry;
    server = api::ApiServer::Start(options, &error);
    REQUIRE_MESSAGE(server, error);
    REQUIRE(server->port() > 0);
    if (ready) server->SetStorage(storage.get());
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  ~Collector() {
    server.reset();  // before the storage it serves
    storage.reset();
  }

  HttpResult Write(const rw::WriteRequest& request, std::vector<std::string> extra_headers = {}) {
    RequestSpec spec{"POST", rw::Encode(request), kRemoteWriteHeaders};
    spec.headers.insert(spec.headers.end(), extra_headers.begin(), extra_headers.end());
    return Http(base + "/api/v1/write", spec);
  }
  HttpResult Get(const std::string& path_and_query) { return Http(base + path_and_query); }
};

// The value of one series line of the text exposition format, or -1 when it is absent.
double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

const TimestampMs kBase = NowMs() / 1000 * 1000 - 60000;

}  // namespace

TEST_CASE("write: 204 stores the samples and series/labels/values serve them") {
  Collector c;
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "up"}, {"job", "crm"}, {"instance", "b"}},
                                  {{kBase, 1}, {kBase + 1000, 1}}));
  request.series.push_back(
      Series({{"__name__", "up"}, {"job", "crm"}, {"instance", "a"}}, {{kBase, 0}}));
  request.series.push_back(
      Series({{"__name__", "http_requests_total"}, {"route", "/x"}}, {{kBase, 5}}));
  HttpResult write = c.Write(request);
  CHECK(write.status == 204);
  CHECK(write.body.empty());

  HttpResult series = c.Get("/api/v1/series?match[]=up");
  CHECK(series.status == 200);
  CHECK(series.headers["content-type"] == "application/json");
  CHECK(series.body ==
        R"({"status":"success","data":[{"__name__":"up","instance":"a","job":"crm"},)"
        R"({"__name__":"up","instance":"b","job":"crm"}]})");
  CHECK(c.Get("/api/v1/series?match[]=%7Broute%3D~%22%2F.*%22%7D").body ==
        R"({"status":"success","data":[{"__name__":"http_requests_total","route":"/x"}]})");
  CHECK(c.Get("/api/v1/labels").body ==
        R"({"status":"success","data":["__name__","instance","job","route"]})");
  CHECK(c.Get("/api/v1/labels?match[]=http_requests_total").body ==
        R"({"status":"success","data":["__name__","route"]})");
  CHECK(c.Get("/api/v1/label/__name__/values").body ==
        R"({"status":"success","data":["http_requests_total","up"]})");
  CHECK(c.Get("/api/v1/label/instance/values?match[]=up%7Binstance%3D%22b%22%7D").body ==
        R"({"status":"success","data":["b"]})");
  CHECK(c.Get("/api/v1/label/nothing_here/values").body == R"({"status":"success","data":[]})");
}

TEST_CASE("write: 400 with the decoder's reason for a body that is not snappy protobuf") {
  Collector c;
  HttpResult garbage = Http(c.base + "/api/v1/write", {"POST", "garbage", kRemoteWriteHeaders});
  CHECK(garbage.status == 400);
  CHECK(garbage.body == "snappy: corrupt input\n");
  CHECK(garbage.headers["content-type"] == "text/plain; charset=utf-8");

  std::string not_protobuf = rw::Encode({});  // valid snappy of nothing: fine, an empty request
  CHECK(Http(c.base + "/api/v1/write", {"POST", not_protobuf, kRemoteWriteHeaders}).status == 204);
}

TEST_CASE("write: series over the label limits are rejected with 400 and the others stored") {
  api::ApiOptions options;
  options.limits.max_labels_per_series = 3;
  options.limits.max_label_value_length = 10;
  Collector c(options);
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "m"}, {"a", "1"}, {"b", "2"}, {"c", "3"}},
                                  {{kBase, 1}, {kBase + 1, 2}}));
  request.series.push_back(Series({{"__name__", "m"}, {"a", "01234567890"}}, {{kBase, 1}}));
  request.series.push_back(Series({{"__name__", "m"}, {"a", "ok"}}, {{kBase, 1}}));
  request.series.push_back(Series({{"__name__", "bad-name"}}, {{kBase, 1}}));
  HttpResult write = c.Write(request);
  CHECK(write.status == 400);
  CHECK(write.body ==
        "4 of 5 samples rejected: invalid_labels=4 "
        "(first: m{a=\"1\", b=\"2\", c=\"3\"} series has 4 labels, limit is 3)\n");
  CHECK(c.Get("/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D").body ==
        R"({"status":"success","data":[{"__name__":"m","a":"ok"}]})");
}

TEST_CASE("write: out-of-order samples answer 400 naming them and the accepted ones are stored") {
  Collector c;
  rw::WriteRequest first;
  first.series.push_back(
      Series({{"__name__", "http_requests_total"}, {"route", "/x"}}, {{kBase + 2000, 1}}));
  REQUIRE(c.Write(first).status == 204);

  rw::WriteRequest second;
  second.series.push_back(Series({{"__name__", "http_requests_total"}, {"route", "/x"}},
                                 {{kBase + 1000, 1}, {kBase + 3000, 2}}));
  second.series.push_back(
      Series({{"__name__", "http_requests_total"}, {"route", "/y"}}, {{kBase + 1000, 7}}));
  HttpResult write = c.Write(second);
  CHECK(write.status == 400);
  CHECK(write.body.rfind("1 of 3 samples rejected: out_of_order=1 (first: "
                         "http_requests_total{route=\"/x\"} out of order sample",
                         0) == 0);
  CHECK(write.body.find(std::to_string(kBase + 1000)) != std::string::npos);
  CHECK(c.Get("/api/v1/label/route/values").body == R"({"status":"success","data":["/x","/y"]})");

  // An identical resend is a duplicate: accepted, not an error.
  rw::WriteRequest resend;
  resend.series.push_back(
      Series({{"__name__", "http_requests_total"}, {"route", "/y"}}, {{kBase + 1000, 7}}));
  CHECK(c.Write(resend).status == 204);
}

TEST_CASE("write: 401 unless the configured bearer token is sent") {
  api::ApiOptions options;
  options.bearer_tokens = {"secret1", "other"};
  Collector c(options);
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "up"}}, {{kBase, 1}}));
  HttpResult missing = c.Write(request);
  CHECK(missing.status == 401);
  CHECK(missing.headers["www-authenticate"] == "Bearer");
  CHECK(c.Write(request, {"Authorization: Bearer secret"}).status == 401);
  CHECK(c.Write(request, {"Authorization: Bearer secret12"}).status == 401);
  CHECK(c.Write(request, {"Authorization: Basic c2VjcmV0MQ=="}).status == 401);
  CHECK(c.Write(request, {"Authorization: Bearer secret1"}).status == 204);
  CHECK(c.Write(request, {"Authorization: bearer other"}).status == 204);
  // Reading is not guarded by the receiver's token.
  CHECK(c.Get("/api/v1/label/__name__/values").body == R"({"status":"success","data":["up"]})");
}

TEST_CASE("write: 413 for a body over max_body_bytes whether announced or chunked") {
  api::ApiOptions options;
  options.limits.max_body_bytes = 300;
  Collector c(options);
  rw::WriteRequest big;
  for (int i = 0; i < 40; ++i) {
    big.series.push_back(
        Series({{"__name__", "m"}, {"i", std::to_string(i * 7919)}}, {{kBase, 1.0 * i}}));
  }
  std::string body = rw::Encode(big);
  REQUIRE(body.size() > 300);
  HttpResult announced = Http(c.base + "/api/v1/write", {"POST", body, kRemoteWriteHeaders, false});
  CHECK(announced.status == 413);
  CHECK(announced.body == "request body larger than 300 bytes\n");
  HttpResult chunked = Http(c.base + "/api/v1/write", {"POST", body, kRemoteWriteHeaders, true});
  CHECK(chunked.status == 413);

  rw::WriteRequest small;
  small.series.push_back(Series({{"__name__", "m"}}, {{kBase, 1}}));
  CHECK(Http(c.base + "/api/v1/write", {"POST", rw::Encode(small), kRemoteWriteHeaders, true})
            .status == 204);
  CHECK(c.Get("/api/v1/series?match[]=m").body ==
        R"({"status":"success","data":[{"__name__":"m"}]})");
}

TEST_CASE("write: a client sending Expect: 100-continue is told to go on") {
  Collector c;
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "up"}}, {{kBase, 1}}));
  RequestSpec spec{"POST", rw::Encode(request), kRemoteWriteHeaders, true, true};
  HttpResult result = Http(c.base + "/api/v1/write", spec);
  CHECK(result.status == 204);
  CHECK(result.headers[":status-lines"].rfind("HTTP/1.1 100 Continue", 0) == 0);
}

TEST_CASE("write: 415 unless the body is snappy-compressed protobuf") {
  Collector c;
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "up"}}, {{kBase, 1}}));
  std::string body = rw::Encode(request);
  HttpResult json =
      Http(c.base + "/api/v1/write",
           {"POST", body, {"Content-Type: application/json", "Content-Encoding: snappy"}});
  CHECK(json.status == 415);
  CHECK(json.body.find("application/x-protobuf") != std::string::npos);
  CHECK(Http(c.base + "/api/v1/write", {"POST", body, {"Content-Type: application/x-protobuf"}})
            .status == 415);
  CHECK(Http(c.base + "/api/v1/write",
             {"POST", body, {"Content-Type: application/x-protobuf", "Content-Encoding: gzip"}})
            .status == 415);
  // Media-type parameters (remote write 2.0 senders add proto=) are allowed.
  CHECK(Http(c.base + "/api/v1/write",
             {"POST",
              body,
              {"Content-Type: application/x-protobuf;proto=prometheus.WriteRequest",
               "Content-Encoding: snappy"}})
            .status == 204);
}

TEST_CASE("write: metadata is kept and served by /api/v1/metadata") {
  Collector c;
  rw::WriteRequest request;
  request.metadata.push_back(
      {rw::MetricType::kCounter, "http_requests_total", "Requests <served>.", ""});
  request.metadata.push_back({rw::MetricType::kGauge, "queue_depth", "Jobs waiting.", "jobs"});
  REQUIRE(c.Write(request).status == 204);
  CHECK(c.Get("/api/v1/metadata").body ==
        R"({"status":"success","data":{"http_requests_total":[{"type":"counter",)"
        R"("help":"Requests \u003cserved\u003e.","unit":""}],)"
        R"("queue_depth":[{"type":"gauge","help":"Jobs waiting.","unit":"jobs"}]}})");
  CHECK(
      c.Get("/api/v1/metadata?metric=queue_depth").body ==
      R"({"status":"success","data":{"queue_depth":[{"type":"gauge","help":"Jobs waiting.","unit":"jobs"}]}})");
  CHECK(c.Get("/api/v1/metadata?limit=0").body == R"({"status":"success","data":{}})");
  CHECK(c.Get("/api/v1/metadata?limit=1").body.find("http_requests_total") != std::string::npos);
  CHECK(c.Get("/api/v1/metadata?limit=1").body.find("queue_depth") == std::string::npos);
  HttpResult bad = c.Get("/api/v1/metadata?limit=x");
  CHECK(bad.status == 400);
  CHECK(bad.body ==
        R"({"status":"error","errorType":"bad_data","error":"limit must be a number"})");
}

TEST_CASE("api: error envelopes and status codes as Prometheus 2.42 answers them") {
  Collector c;
  auto check_error = [&](const std::string& query, const std::string& message) {
    HttpResult r = c.Get(query);
    CHECK_MESSAGE(r.status == 400, query);
    CHECK(r.headers["content-type"] == "application/json");
    CHECK(r.body == R"({"status":"error","errorType":"bad_data","error":)" + message + "}");
  };
  check_error("/api/v1/series", R"("no match[] parameter provided")");
  check_error(
      "/api/v1/series?match[]=up&start=abc",
      R"("invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp")");
  check_error(
      "/api/v1/series?match[]=up&end=abc",
      R"("invalid parameter \"end\": Invalid time value for 'end': cannot parse \"abc\" to a valid timestamp")");
  check_error(
      "/api/v1/series?match[]=%7Ba%3D~%22x*%22%7D",
      R"("invalid parameter \"match[]\": match[] must contain at least one non-empty matcher")");
  check_error("/api/v1/labels?match[]=%7Ba%3D%22%22%7D",
              R"("match[] must contain at least one non-empty matcher")");
  check_error("/api/v1/label/job/values?match[]=%7Ba%3D%22%22%7D",
              R"("match[] must contain at least one non-empty matcher")");
  check_error(
      "/api/v1/label/job/values?start=x",
      R"("invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a valid timestamp")");
  check_error("/api/v1/label/foo%20bar/values", R"("invalid label name: \"foo bar\"")");
  check_error("/api/v1/label/1a/values", R"("invalid label name: \"1a\"")");
  check_error("/api/v1/series?match[]=up&limit=abc",
              R"("invalid parameter \"limit\": strconv.Atoi: parsing \"abc\": invalid syntax")");
  check_error("/api/v1/labels?limit=-1",
              R"("invalid parameter \"limit\": limit must be non-negative")");
  check_error("/api/v1/series?match[]=up&x=%zz",
              R"("error parsing form values: invalid URL escape \"%zz\"")");

  // The parser's own message comes through, prefixed for series only.
  HttpResult bad_selector = c.Get("/api/v1/series?match[]=up(");
  CHECK(bad_selector.status == 400);
  CHECK(
      bad_selector.body.rfind(
          R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:3: parse error:)",
          0) == 0);
  HttpResult bad_label_selector = c.Get("/api/v1/labels?match[]=up(");
  CHECK(bad_label_selector.body.rfind(
            R"({"status":"error","errorType":"bad_data","error":"1:3: parse error:)", 0) == 0);

  // Both boundary spellings Prometheus's own clients send are understood.
  CHECK(c.Get("/api/v1/"
              "labels?start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z")
            .body == R"({"status":"success","data":[]})");
  CHECK(c.Get("/api/v1/labels?start=2023-01-01T00:00:00Z&end=1e12").status == 200);
}

TEST_CASE("api: POST form bodies and match[] unions and time ranges and limit") {
  Collector c;
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "old"}, {"zone", "eu"}}, {{kBase, 1}}));
  request.series.push_back(Series({{"__name__", "new"}, {"zone", "us"}}, {{kBase + 50000, 1}}));
  request.series.push_back(Series({{"__name__", "new"}, {"zone", "eu"}}, {{kBase + 50000, 1}}));
  REQUIRE(c.Write(request).status == 204);

  RequestSpec form{"POST",
                   "match[]=old&match[]=new%7Bzone%3D%22eu%22%7D&match[]=%7Bzone%3D%22eu%22%7D",
                   {"Content-Type: application/x-www-form-urlencoded"}};
  CHECK(
      Http(c.base + "/api/v1/series", form).body ==
      R"({"status":"success","data":[{"__name__":"new","zone":"eu"},{"__name__":"old","zone":"eu"}]})");
  form.body = "match[]=new";
  CHECK(Http(c.base + "/api/v1/labels", form).body ==
        R"({"status":"success","data":["__name__","zone"]})");

  std::string after = std::to_string((kBase + 20000) / 1000);
  CHECK(
      c.Get("/api/v1/series?match[]=%7Bzone%3D~%22.%2B%22%7D&start=" + after).body ==
      R"({"status":"success","data":[{"__name__":"new","zone":"eu"},{"__name__":"new","zone":"us"}]})");
  CHECK(c.Get("/api/v1/label/__name__/values?end=" + after).body ==
        R"({"status":"success","data":["old"]})");

  CHECK(c.Get("/api/v1/label/zone/values?limit=1").body ==
        R"({"status":"success","data":["eu"],"warnings":["results truncated due to limit"]})");
  CHECK(
      c.Get("/api/v1/series?match[]=new&limit=1").body ==
      R"({"status":"success","data":[{"__name__":"new","zone":"eu"}],"warnings":["results truncated due to limit"]})");
  CHECK(c.Get("/api/v1/label/zone/values?limit=2").body ==
        R"({"status":"success","data":["eu","us"]})");
}

TEST_CASE("routes: 404 and 405 and health and readiness") {
  Collector c(api::ApiOptions{}, /*ready=*/false);
  CHECK(c.Get("/-/healthy").status == 200);
  CHECK(c.Get("/-/healthy").body == "Healthy\n");
  CHECK(c.Get("/-/ready").status == 503);
  CHECK(c.Get("/api/v1/labels").status == 503);
  CHECK(c.Get("/metrics").status == 200);

  c.server->SetStorage(c.storage.get());
  CHECK(c.Get("/-/ready").status == 200);
  CHECK(c.Get("/-/ready").body == "Ready\n");
  CHECK(Http(c.base + "/-/ready", {"HEAD", "", {}, false}).status == 200);
  HttpResult missing = c.Get("/api/v1/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == "404 page not found\n");
  CHECK(c.Get("/api/v1/label/a/b/values").status == 404);
  HttpResult get_write = c.Get("/api/v1/write");
  CHECK(get_write.status == 405);
  CHECK(get_write.headers["allow"] == "POST");
  HttpResult put_series = Http(c.base + "/api/v1/series?match[]=up", {"PUT", "", {}, false});
  CHECK(put_series.status == 405);
  CHECK(put_series.headers["allow"] == "GET, POST");
}

TEST_CASE("metrics: counters count what the API did and storage and process metrics are there") {
  Collector c;
  rw::WriteRequest request;
  request.series.push_back(Series({{"__name__", "a"}}, {{kBase, 1}, {kBase + 1000, 2}}));
  request.series.push_back(Series({{"__name__", "b"}}, {{kBase, 1}}));
  REQUIRE(c.Write(request).status == 204);
  REQUIRE(c.Write(request).status == 204);  // all three again: duplicates
  rw::WriteRequest late;
  late.series.push_back(Series({{"__name__", "a"}}, {{kBase - 1000, 1}}));
  REQUIRE(c.Write(late).status == 400);
  REQUIRE(c.Get("/api/v1/series").status == 400);

  HttpResult metrics = c.Get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = metrics.body;
  CHECK(MetricValue(text, R"(crmscope_ingest_samples_total{result="accepted"})") == 3);
  CHECK(MetricValue(text, R"(crmscope_ingest_samples_total{result="duplicate"})") == 3);
  CHECK(MetricValue(text, R"(crmscope_ingest_samples_rejected_total{reason="out_of_order"})") == 1);
  CHECK(MetricValue(text, R"(crmscope_ingest_samples_rejected_total{reason="invalid_labels"})") ==
        0);
  CHECK(MetricValue(text, R"(crmscope_http_requests_total{code="204",handler="/api/v1/write"})") ==
        2);
  CHECK(MetricValue(text, R"(crmscope_http_requests_total{code="400",handler="/api/v1/write"})") ==
        1);
  CHECK(MetricValue(text, R"(crmscope_http_requests_total{code="400",handler="/api/v1/series"})") ==
        1);
  CHECK(MetricValue(
            text, R"(crmscope_http_request_duration_seconds_count{handler="/api/v1/write"})") == 3);
  CHECK(MetricValue(text, "crmscope_storage_series") == 2);
  CHECK(MetricValue(text, "crmscope_storage_active_series") == 2);
  CHECK(MetricValue(text, "crmscope_storage_head_chunks") == 2);
  CHECK(MetricValue(text, "crmscope_storage_db_size_bytes") > 0);
  CHECK(MetricValue(text, "process_resident_memory_bytes") > 1e6);
  CHECK(MetricValue(text, "process_open_fds") > 3);
  CHECK(MetricValue(text, "process_cpu_seconds_total") >= 0);
  CHECK(text.find("crmscope_storage_commits_total") != std::string::npos);  // storage's own
}

TEST_CASE("api_response: numbers and strings formatted as Prometheus 2.42 writes them") {
  auto ts = [](TimestampMs t) {
    std::string s;
    api::AppendApiTimestamp(t, &s);
    return s;
  };
  CHECK(ts(1500) == "1.500");
  CHECK(ts(-1050) == "-1.050");
  CHECK(ts(1) == "0.001");
  CHECK(ts(0) == "0");
  CHECK(ts(1795770896880) == "1795770896.880");
  CHECK(ts(1700000000000) == "1700000000");
  auto value = [](double v) {
    std::string s;
    api::AppendApiValue(v, &s);
    return s;
  };
  CHECK(value(1e-7) == "1e-07");
  CHECK(value(1e21) == "1e+21");
  CHECK(value(1e20) == "100000000000000000000");
  CHECK(value(0.1 + 0.2) == "0.30000000000000004");
  CHECK(value(2) == "2");
  CHECK(value(-0.0) == "-0");
  CHECK(value(std::nan("")) == "NaN");
  CHECK(value(-HUGE_VAL) == "-Inf");
  CHECK(value(HUGE_VAL) == "+Inf");
  std::string json;
  api::AppendJsonString("<&>\xe2\x80\xa8\x01\t\"\\\xff", &json);
  CHECK(json == R"("\u003c\u0026\u003e\u2028\u0001\t\"\\\ufffd")");
  CHECK(api::GoQuote("foo bar") == R"("foo bar")");
  CHECK(api::GoQuote("a\"b\n\x01\xff") == R"("a\"b\n\x01\xff")");
  CHECK(api::GoQuote("grüße") == "\"grüße\"");
}

TEST_CASE("api_params: form decoding and Prometheus's time syntax") {
  api::FormValues form =
      api::FormValues::FromQueryString("match[]=a%7Bb%3D%22c+d%22%7D&match[]=x&&start=5&bad=%z");
  CHECK(form.GetAll("match[]") == std::vector<std::string_view>{"a{b=\"c d\"}", "x"});
  CHECK(form.Get("start") == "5");
  CHECK(form.Get("missing").empty());
  CHECK(form.parse_error() == "invalid URL escape \"%z\"");
  TimestampMs t = 0;
  CHECK(api::ParseApiTimeValue("1.5", &t));
  CHECK(t == 1500);
  CHECK(api::ParseApiTimeValue("-1.05", &t));
  CHECK(t == -1050);
  CHECK(api::ParseApiTimeValue("2023-01-01T00:00:00.5Z", &t));
  CHECK(t == 1672531200500);
  CHECK(api::ParseApiTimeValue("1e300", &t));
  CHECK(t == api::kMaxApiTime);
  CHECK(api::ParseApiTimeValue("-Inf", &t));
  CHECK(t == api::kMinApiTime);
  CHECK_FALSE(api::ParseApiTimeValue("1e400", &t));  // Go's ParseFloat: out of range
  CHECK_FALSE(api::ParseApiTimeValue(" 5", &t));
  CHECK_FALSE(api::ParseApiTimeValue("yesterday", &t));
}
