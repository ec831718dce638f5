// The scrape source end to end against targets served on loopback by an in-process CivetWeb:
// up and the report series, a target going down, timeouts, concurrency, honor_labels, the
// format chosen by Content-Type, gzip, the request Prometheus sends, and stale markers.
#include <civetweb.h>
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/sources/scrape/scrape_source.h"
#include "agent/sources/scrape/target_http_client.h"

namespace crmscope::agent {
namespace {

namespace fs = std::filesystem;

// One /metrics endpoint whose answer the test sets, and which remembers the request it got.
class FakeTarget {
 public:
  struct Answer {
    std::string body;
    std::string content_type = "text/plain; version=0.0.4; charset=utf-8";
    int status = 200;
    int delay_ms = 0;
    bool gzip = false;
  };

  FakeTarget() {
    mg_init_library(0);
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4", nullptr};
    mg_callbacks callbacks{};
    callbacks.begin_request = &FakeTarget::Serve;
    ctx_ = mg_start(&callbacks, this, options);
    REQUIRE(ctx_ != nullptr);
    mg_server_port ports[1]{};
    REQUIRE(mg_get_server_ports(ctx_, 1, ports) == 1);
    port_ = ports[0].port;
  }
  ~FakeTarget() { Stop(); }
  void Stop() {
    if (ctx_ != nullptr) mg_stop(ctx_);
    ctx_ = nullptr;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Set(Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }
  std::string Header(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_[name];
  }
  std::string query() {
    std::lock_guard<std::mutex> lock(mu_);
    return query_;
  }

 private:
  static int Serve(mg_connection* conn) {
    auto* self = static_cast<FakeTarget*>(mg_get_user_data(mg_get_context(conn)));
    const mg_request_info* info = mg_get_request_info(conn);
    Answer answer;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      for (int i = 0; i < info->num_headers; ++i) {
        self->headers_[info->http_headers[i].name] = info->http_headers[i].value;
      }
      self->query_ = info->query_string ? info->query_string : "";
      answer = self->answer_;
    }
    // A slow target, to test timeouts; the scrape under test bounds the wait.
    if (answer.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(answer.delay_ms));
    std::string head = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\nContent-Type: " +
                       answer.content_type + "\r\nContent-Length: " +
                       std::to_string(answer.body.size()) + "\r\n";
    if (answer.gzip) head += "Content-Encoding: gzip\r\n";
    head += "\r\n";
    mg_write(conn, head.data(), head.size());
    mg_write(conn, answer.body.data(), answer.body.size());
    return answer.status;
  }

  mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::mutex mu_;
  Answer answer_;
  std::map<std::string, std::string> headers_;
  std::string query_;
};

struct RecordingSink : SampleSink {
  static constexpr TimestampMs kAtCollection = -1;
  struct Point {
    TimestampMs t;
    double v;
  };
  std::map<std::string, std::vector<Point>> series;
  std::map<std::string, MetricKind> kinds;
  void Add(const Labels& labels, double value) override {
    series[LabelsToString(labels)].push_back({kAtCollection, value});
  }
  void AddAt(const Labels& labels, TimestampMs t, double value) override {
    series[LabelsToString(labels)].push_back({t, value});
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view) override {
    kinds[std::string(family)] = kind;
  }
  // The last value of `name` for the target at `address` (job "j"), NaN when absent.
  double Last(const std::string& name, const std::string& address,
              const std::string& extra = "") {
    auto it = series.find(name + "{" + extra + "instance=\"" + address + "\", job=\"j\"}");
    return it == series.end() ? NAN : it->second.back().v;
  }
};

std::unique_ptr<ScrapeSource> SourceFor(const std::string& yaml) {
  ScrapeConfig config;
  std::string error;
  REQUIRE_MESSAGE(ParseScrapeConfig(YAML::Load(yaml), &config, &error), error);
  auto source = MakeScrapeSource(config);
  REQUIRE(source != nullptr);
  return source;
}

std::string Job(const std::string& targets, const std::string& more = "") {
  return "{job_name: j, static_configs: [{targets: [" + targets + "]}]" + more + "}";
}

TEST_CASE("A healthy target: its samples, up=1 and the report series, the request Prometheus sends") {
  FakeTarget target;
  target.Set({"# TYPE a counter\na_total 3\nb{x=\"1\"} 2\n"});
  auto source = SourceFor("{job_name: j, static_configs: [{targets: ['" + target.address() +
                          "'], labels: {node: n1}}]}");
  RecordingSink sink;
  source->Collect(1000, sink);
  std::string a = "a_total{instance=\"" + target.address() + "\", job=\"j\", node=\"n1\"}";
  REQUIRE(sink.series.count(a) == 1);
  CHECK(sink.series[a][0].v == 3);
  std::string labels = "{instance=\"" + target.address() + "\", job=\"j\", node=\"n1\"}";
  CHECK(sink.series["up" + labels][0].v == 1);
  CHECK(sink.series["scrape_samples_scraped" + labels][0].v == 2);
  CHECK(sink.series["scrape_samples_post_metric_relabeling" + labels][0].v == 2);
  CHECK(sink.series["scrape_series_added" + labels][0].v == 2);
  double duration = sink.series["scrape_duration_seconds" + labels][0].v;
  CHECK(duration > 0);
  CHECK(duration < 5);
  CHECK(sink.kinds["a"] == MetricKind::kCounter);
  CHECK(sink.kinds["up"] == MetricKind::kGauge);
  CHECK(target.Header("Accept") == kScrapeAcceptHeader);
  CHECK(target.Header("Accept-Encoding") == "gzip");
  CHECK(target.Header("X-Prometheus-Scrape-Timeout-Seconds") == "10");
  CHECK(target.Header("Authorization") == "");

  source->Collect(2000, sink);
  CHECK(sink.series["scrape_series_added" + labels][1].v == 0);
  CHECK(sink.series[a].size() == 2);
  std::vector<ScrapeTargetHealth> health = source->TargetHealth();
  REQUIRE(health.size() == 1);
  CHECK(health[0].up);
  CHECK(health[0].last_samples_scraped == 2);
}

TEST_CASE("A target that goes down: up=0 and one stale marker per series it had") {
  auto target = std::make_unique<FakeTarget>();
  std::string address = target->address();
  target->Set({"a 1\nb 2\n"});
  auto source = SourceFor(Job("'" + address + "'"));
  RecordingSink sink;
  source->Collect(1000, sink);
  CHECK(sink.Last("up", address) == 1);
  target.reset();  // connection refused from now on
  source->Collect(2000, sink);
  CHECK(sink.Last("up", address) == 0);
  CHECK(sink.Last("scrape_samples_scraped", address) == 0);
  CHECK(IsStaleNaN(sink.Last("a", address)));
  CHECK(IsStaleNaN(sink.Last("b", address)));
  CHECK(sink.series["a{instance=\"" + address + "\", job=\"j\"}"].back().t == 2000);
  CHECK(!source->TargetHealth()[0].up);
  CHECK(source->TargetHealth()[0].last_error != "");
  source->Collect(3000, sink);
  CHECK(sink.series["a{instance=\"" + address + "\", job=\"j\"}"].size() == 2);  // once
}

TEST_CASE("A series that disappears from a healthy target gets one stale marker") {
  FakeTarget target;
  target.Set({"a 1\nb 2\n"});
  auto source = SourceFor(Job("'" + target.address() + "'"));
  RecordingSink sink;
  source->Collect(1000, sink);
  target.Set({"a 1\n"});
  source->Collect(2000, sink);
  source->Collect(3000, sink);
  const auto& b = sink.series["b{instance=\"" + target.address() + "\", job=\"j\"}"];
  REQUIRE(b.size() == 2);
  CHECK(b[0].v == 2);
  CHECK(IsStaleNaN(b[1].v));
  CHECK(b[1].t == 2000);
  CHECK(sink.series["a{instance=\"" + target.address() + "\", job=\"j\"}"].size() == 3);
}

TEST_CASE("scrape_timeout bounds a slow target: up=0 within the timeout") {
  FakeTarget target;
  target.Set({"a 1\n", "text/plain", 200, /*delay_ms=*/3000});
  auto source = SourceFor(Job("'" + target.address() + "'", ", scrape_timeout: 300ms"));
  RecordingSink sink;
  auto start = std::chrono::steady_clock::now();
  source->Collect(1000, sink);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 1.5);
  CHECK(sink.Last("up", target.address()) == 0);
  CHECK(sink.Last("scrape_duration_seconds", target.address()) >= 0.29);
  CHECK(target.Header("X-Prometheus-Scrape-Timeout-Seconds") == "0.3");
  CHECK(source->TargetHealth()[0].last_error.find("timed out") != std::string::npos);
}

TEST_CASE("The targets of a job are scraped at once") {
  FakeTarget first, second;
  first.Set({"a 1\n", "text/plain", 200, 600});
  second.Set({"a 2\n", "text/plain", 200, 600});
  auto source = SourceFor(Job("'" + first.address() + "', '" + second.address() + "'",
                              ", scrape_timeout: 2s"));
  RecordingSink sink;
  auto start = std::chrono::steady_clock::now();
  source->Collect(1000, sink);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 1.1);  // one after the other would take 1.2 s
  CHECK(sink.Last("a", first.address()) == 1);
  CHECK(sink.Last("a", second.address()) == 2);
  CHECK(sink.Last("up", second.address()) == 1);
}

TEST_CASE("honor_labels false renames conflicts exported_<name>; true keeps the target's") {
  FakeTarget target;
  target.Set({"m{job=\"exposed\",instance=\"i0\"} 1\n"});
  RecordingSink sink;
  SourceFor(Job("'" + target.address() + "'"))->Collect(1000, sink);
  CHECK(sink.series.count("m{exported_instance=\"i0\", exported_job=\"exposed\", instance=\"" +
                          target.address() + "\", job=\"j\"}") == 1);
  RecordingSink honored;
  SourceFor(Job("'" + target.address() + "'", ", honor_labels: true"))->Collect(1000, honored);
  CHECK(honored.series.count("m{instance=\"i0\", job=\"exposed\"}") == 1);
  // The report series always carry the target's own labels.
  CHECK(honored.Last("up", target.address()) == 1);
}

TEST_CASE("honor_timestamps: a sample's own timestamp is kept unless told otherwise") {
  FakeTarget target;
  target.Set({"m 1 1234\n"});
  RecordingSink sink;
  SourceFor(Job("'" + target.address() + "'"))->Collect(5000, sink);
  CHECK(sink.series["m{instance=\"" + target.address() + "\", job=\"j\"}"][0].t == 1234);
  RecordingSink ignored;
  SourceFor(Job("'" + target.address() + "'", ", honor_timestamps: false"))->Collect(5000, ignored);
  CHECK(ignored.series["m{instance=\"" + target.address() + "\", job=\"j\"}"][0].t ==
        RecordingSink::kAtCollection);
}

TEST_CASE("The Content-Type picks the parser: OpenMetrics with _created and an exemplar") {
  const std::string body =
      "# TYPE c counter\nc_total 5 # {trace_id=\"x\"} 1 1.5\nc_created 1.7e9\n# EOF\n";
  FakeTarget target;
  target.Set({body, "application/openmetrics-text; version=1.0.0; charset=utf-8"});
  RecordingSink sink;
  SourceFor(Job("'" + target.address() + "'"))->Collect(1000, sink);
  CHECK(sink.Last("c_total", target.address()) == 5);
  CHECK(std::isnan(sink.Last("c_created", target.address())));  // not a series
  CHECK(sink.Last("scrape_samples_scraped", target.address()) == 1);
  // The same bytes as the text format are malformed: an exemplar is no timestamp.
  target.Set({body, "text/plain; version=0.0.4"});
  RecordingSink text;
  auto source = SourceFor(Job("'" + target.address() + "'"));
  source->Collect(1000, text);
  CHECK(text.Last("up", target.address()) == 0);
  CHECK(source->TargetHealth()[0].last_error ==
        "line 2: unexpected text after the sample \"# {trace_id=\"x\"} 1 1.5\"");
}

TEST_CASE("A gzip-encoded answer (node_exporter's output) is read whole") {
  std::ifstream in(std::string(CRMSCOPE_SOURCE_DIR) +
                   "/tests/data/exposition/node_exporter_1.5.txt.gz", std::ios::binary);
  std::stringstream gz;
  gz << in.rdbuf();
  REQUIRE(gz.str().size() > 1000);
  FakeTarget target;
  FakeTarget::Answer answer{gz.str()};
  answer.gzip = true;
  target.Set(answer);
  RecordingSink sink;
  SourceFor(Job("'" + target.address() + "'"))->Collect(1000, sink);
  CHECK(sink.Last("up", target.address()) == 1);
  CHECK(sink.Last("scrape_samples_scraped", target.address()) == 507);
  CHECK(sink.Last("node_memory_MemTotal_bytes", target.address()) == 2.5276510208e+10);
}

TEST_CASE("HTTP errors, metric_relabel_configs, bearer tokens and params") {
  FakeTarget target;
  target.Set({"oops", "text/plain", 503});
  auto source = SourceFor(Job("'" + target.address() + "'"));
  RecordingSink failed;
  source->Collect(1000, failed);
  CHECK(failed.Last("up", target.address()) == 0);
  CHECK(source->TargetHealth()[0].last_error == "server returned HTTP status 503");

  target.Set({"go_x 1\ngo_y 2\ncrm_z 3\n"});
  RecordingSink sink;
  SourceFor(Job("'" + target.address() + "'",
                ", bearer_token: s3cret, params: {module: [http_2xx], q: ['a b']}, "
                "metric_relabel_configs: [{source_labels: [__name__], regex: 'go_.*', "
                "action: drop}]"))
      ->Collect(1000, sink);
  CHECK(sink.Last("scrape_samples_scraped", target.address()) == 3);
  CHECK(sink.Last("scrape_samples_post_metric_relabeling", target.address()) == 1);
  CHECK(std::isnan(sink.Last("go_x", target.address())));
  CHECK(sink.Last("crm_z", target.address()) == 3);
  CHECK(target.Header("Authorization") == "Bearer s3cret");
  CHECK(target.query() == "module=http_2xx&q=a%20b");

  fs::path token = fs::temp_directory_path() / ("scrape-token-" + std::to_string(getpid()));
  std::ofstream(token) << "from-file\n";
  RecordingSink from_file;
  auto with_file = SourceFor(Job("'" + target.address() + "'", ", bearer_token_file: " +
                                                                   token.string()));
  with_file->Collect(1000, from_file);
  CHECK(target.Header("Authorization") == "Bearer from-file");
  fs::remove(token);
  with_file->Collect(2000, from_file);  // unreadable now: the scrape fails, as in Prometheus
  CHECK(from_file.Last("up", target.address()) == 0);
  CHECK(IsStaleNaN(from_file.Last("crm_z", target.address())));
}

}  // namespace
}  // namespace crmscope::agent
