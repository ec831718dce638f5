// The durable remote-write sender against receivers on loopback: a scripted one that records
// every sample it is given (so a duplicate or a gap shows), and a real collector (API + storage)
// that is down, then comes back. Waits poll with deadlines; nothing relies on a sleep.
#include "exporters/remote_write/queue_sender.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/api_server.h"
#include "collector/storage/storage.h"
#include "exporters/http/http_server.h"
#include "exporters/remote_write/write_client.h"

using namespace crmscope;
using namespace crmscope::remote_write;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "crmscope-sender-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

// A loopback port nobody listens on now, for an endpoint that is down and later comes up there.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not a sync
  }
  return true;
}

// Records what arrives; answers each request as `script` says (204 when it returns 0).
class ScriptedReceiver {
 public:
  struct Request {
    Clock::time_point at;
    size_t samples = 0;
    std::map<std::string, std::string> headers;
  };
  // Given the request's number (from 1) and the metric names in it.
  using Script = std::function<http::HttpResponse(size_t request_number, const std::set<std::string>& names)>;

  explicit ScriptedReceiver(int port = 0, Script script = {}) : script_(std::move(script)) {
    std::string error;
    server_ = http::HttpServer::Start({.listen_address = "127.0.0.1:" + std::to_string(port), .num_threads = 8},
                                      [this](http::HttpRequest& r) { return Handle(r); }, &error);
    REQUIRE_MESSAGE(server_, error);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/write"; }
  void SetScript(Script script) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(script);
  }
  size_t stored_samples() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_;
  }
  std::map<std::string, std::vector<Sample>> series() const {
    std::lock_guard<std::mutex> lock(mu_);
    return series_;
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  http::HttpResponse Handle(http::HttpRequest& request) {
    // No doctest assertions here: this runs on the server's threads. A bad request shows as a
    // 400 the sender counts as failed, which the tests check is 0.
    std::string body, error;
    DecodedRequest decoded;
    if (request.ReadBody(64 << 20, &body) != http::HttpRequest::BodyStatus::kOk ||
        !Decode(body, 1 << 30, &decoded, &error)) {
      return http::HttpResponse::Text(400, "undecodable: " + error);
    }
    std::lock_guard<std::mutex> lock(mu_);
    Request seen{Clock::now(), decoded.samples().size(), {}};
    for (const char* name : {"Content-Type", "Content-Encoding", "X-Prometheus-Remote-Write-Version",
                             "User-Agent", "Authorization", "X-Scope-OrgID"}) {
      seen.headers[name] = std::string(request.Header(name));
    }
    requests_.push_back(seen);
    http::HttpResponse response;
    response.status = 204;
    if (script_) {
      std::set<std::string> names;
      for (const auto& s : decoded.series()) {
        for (uint32_t l = s.label_begin; l < s.label_end; ++l) {
          if (decoded.labels()[l].name == "__name__") names.insert(std::string(decoded.labels()[l].value));
        }
      }
      response = script_(requests_.size(), names);
    }
    if (response.status / 100 != 2) return response;
    for (const auto& s : decoded.series()) {
      std::string key = LabelsToString(LabelsFromViews(decoded.labels().data() + s.label_begin,
                                                       decoded.labels().data() + s.label_end));
      auto& samples = series_[key];
      samples.insert(samples.end(), decoded.samples().begin() + s.sample_begin,
                     decoded.samples().begin() + s.sample_end);
      stored_ += s.sample_end - s.sample_begin;
    }
    return response;
  }

  mutable std::mutex mu_;
  Script script_;
  std::vector<Request> requests_;
  std::map<std::string, std::vector<Sample>> series_;
  size_t stored_ = 0;
  std::unique_ptr<http::HttpServer> server_;  // last: stopped before the state it writes
};

http::HttpResponse Answer(int status, std::string body = {}, std::string retry_after = {}) {
  http::HttpResponse response = http::HttpResponse::Text(status, body);
  if (!retry_after.empty()) response.headers.emplace_back("Retry-After", retry_after);
  return response;
}

QueueSenderConfig FastConfig(const std::string& url, const fs::path& dir) {
  QueueSenderConfig c;
  c.url = url;
  c.name = "test";
  c.queue_dir = (dir / "queue").string();
  c.max_shards = 4;
  c.max_samples_per_send = 100;
  c.batch_send_deadline_ms = 20;
  c.min_backoff_ms = 10;
  c.max_backoff_ms = 100;
  c.timeout_ms = 5000;
  return c;
}

std::unique_ptr<QueueSender> OpenSender(const QueueSenderConfig& config) {
  std::string error;
  auto sender = QueueSender::Open(config, nullptr, "test", &error);
  INFO(error);
  REQUIRE(sender);
  return sender;
}

// Batch b holds `series` series, req_<i>, with `per_series` samples each: timestamps continue
// from batch to batch, so each series' full history is 0, 1, 2, ... and a value is t * 0.5.
WriteRequest Batch(int b, int series, int per_series) {
  WriteRequest request;
  for (int i = 0; i < series; ++i) {
    TimeSeries ts;
    ts.labels = {{"__name__", "req_" + std::to_string(i)}, {"instance", "node-" + std::to_string(i % 3)}};
    for (int j = 0; j < per_series; ++j) {
      TimestampMs t = static_cast<TimestampMs>(b) * per_series + j;
      ts.samples.push_back({t, static_cast<double>(t) * 0.5});
    }
    request.series.push_back(std::move(ts));
  }
  return request;
}

void AppendBatches(QueueSender& sender, int from, int to, int series, int per_series) {
  for (int b = from; b < to; ++b) {
    std::string error;
    REQUIRE_MESSAGE(sender.Append(Batch(b, series, per_series), &error), error);
  }
}

// Every series holds exactly 0 .. n-1, in order: nothing lost, nothing twice.
void CheckHistories(const std::map<std::string, std::vector<Sample>>& series, size_t n_series,
                    TimestampMs n) {
  CHECK(series.size() == n_series);
  for (const auto& [name, samples] : series) {
    INFO(name);
    REQUIRE(samples.size() == static_cast<size_t>(n));
    for (TimestampMs t = 0; t < n; ++t) {
      if (samples[t].t != t || samples[t].v != static_cast<double>(t) * 0.5) {
        FAIL_CHECK("sample " << t << " is (" << samples[t].t << ", " << samples[t].v << ")");
        break;
      }
    }
  }
}

}  // namespace

TEST_CASE("every sample arrives once, in order per series, with remote write 1.0's headers") {
  TempDir dir;
  ScriptedReceiver receiver;
  QueueSenderConfig config = FastConfig(receiver.url(), dir.path);
  config.bearer_token = "s3cret";
  config.headers = {{"X-Scope-OrgID", "crm"}};
  config.external_labels = {{"dc", "eu1"}, {"instance", "from-external"}};
  auto sender = OpenSender(config);
  AppendBatches(*sender, 0, 100, 10, 5);  // 5000 samples over 4 shards, batches of <= 100
  REQUIRE(WaitFor([&] { return receiver.stored_samples() >= 5000; }));
  sender->Close(std::chrono::seconds(5));

  auto series = receiver.series();
  CheckHistories(series, 10, 500);
  // dc is added; the series' own instance wins over the external one, as in Prometheus.
  CHECK(series.count("req_4{dc=\"eu1\", instance=\"node-1\"}") == 1);
  auto requests = receiver.requests();
  REQUIRE(requests.size() >= 50);
  for (const auto& r : requests) CHECK(r.samples <= 100);
  const auto& h = requests.front().headers;
  CHECK(h.at("Content-Type") == "application/x-protobuf");
  CHECK(h.at("Content-Encoding") == "snappy");
  CHECK(h.at("X-Prometheus-Remote-Write-Version") == "0.1.0");
  CHECK(h.at("User-Agent").rfind("crmscope/", 0) == 0);
  CHECK(h.at("Authorization") == "Bearer s3cret");
  CHECK(h.at("X-Scope-OrgID") == "crm");
  QueueSender::Stats stats = sender->stats();
  CHECK(stats.samples_sent == 5000);
  CHECK(stats.samples_failed == 0);
  CHECK(stats.samples_retried == 0);
}

TEST_CASE("5xx answers are retried with backoff until the batch is delivered, once") {
  TempDir dir;
  ScriptedReceiver receiver(0, [](size_t n, auto&) { return n <= 3 ? Answer(503, "busy") : Answer(204); });
  QueueSenderConfig config = FastConfig(receiver.url(), dir.path);
  config.max_shards = 1;
  auto sender = OpenSender(config);
  AppendBatches(*sender, 0, 1, 2, 5);
  REQUIRE(WaitFor([&] { return sender->stats().samples_sent == 10; }));
  CHECK(receiver.requests().size() == 4);
  CHECK(receiver.stored_samples() == 10);
  CHECK(sender->stats().samples_retried == 30);
  auto requests = receiver.requests();
  // Backoff doubles from min_backoff (10 ms) with jitter in [b/2, b]: at least 5, 10, 20 ms.
  CHECK(requests[3].at - requests[0].at >= std::chrono::milliseconds(35));
}

TEST_CASE("a 429 is retried after the Retry-After it carries") {
  TempDir dir;
  ScriptedReceiver receiver(0, [](size_t n, auto&) {
    return n == 1 ? Answer(429, "slow down", "1") : Answer(204);
  });
  QueueSenderConfig config = FastConfig(receiver.url(), dir.path);
  config.max_shards = 1;  // backoff alone would retry after 5-10 ms
  auto sender = OpenSender(config);
  AppendBatches(*sender, 0, 1, 1, 3);
  REQUIRE(WaitFor([&] { return sender->stats().samples_sent == 3; }));
  auto requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  auto gap = requests[1].at - requests[0].at;
  CHECK(gap >= std::chrono::milliseconds(1000));
  CHECK(gap < std::chrono::milliseconds(3000));
  CHECK(sender->stats().samples_retried == 3);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date") {
  const int64_t now = 1445412475000;  // Wed, 21 Oct 2015 07:27:55 GMT
  CHECK(ParseRetryAfterMs("7", now) == 7000);
  CHECK(ParseRetryAfterMs(" 0 ", now) == 0);
  CHECK(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", now) == 5000);
  CHECK(ParseRetryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0);  // already past
  CHECK(ParseRetryAfterMs("soon", now) == -1);
  CHECK(ParseRetryAfterMs("", now) == -1);
  CHECK(ParseRetryAfterMs("-3", now) == -1);
  CHECK(ParseRetryAfterMs("999999999", now) == 3600 * 1000);  // capped at an hour
}

TEST_CASE("other 4xx answers drop the batch, count it as failed, and sending goes on") {
  TempDir dir;
  ScriptedReceiver receiver(0, [](size_t n, auto&) {
    return n == 1 ? Answer(400, "out of bounds") : Answer(204);
  });
  QueueSenderConfig config = FastConfig(receiver.url(), dir.path);
  config.max_shards = 1;
  auto sender = OpenSender(config);
  AppendBatches(*sender, 0, 1, 2, 5);
  REQUIRE(WaitFor([&] { return sender->stats().samples_failed == 10; }));
  AppendBatches(*sender, 1, 2, 2, 5);
  REQUIRE(WaitFor([&] { return sender->stats().samples_sent == 10; }));
  CHECK(receiver.requests().size() == 2);  // the refused batch was never sent again
  auto series = receiver.series();
  REQUIRE(series.size() == 2);
  CHECK(series.begin()->second.front().t == 5);  // only the second batch arrived
  CHECK(sender->stats().samples_retried == 0);
  sender->Close(std::chrono::seconds(5));
  // Given up on is done with: a restart does not send the refused batch again.
  auto reopened = OpenSender(config);
  reopened->Close(std::chrono::seconds(5));
  CHECK(receiver.requests().size() == 2);
}

TEST_CASE("a collector that is down, then comes back, gets every sample exactly once") {
  TempDir dir;
  const int port = UnusedPort();
  QueueSenderConfig config = FastConfig("http://127.0.0.1:" + std::to_string(port) + "/api/v1/write", dir.path);
  prometheus::Registry registry;
  std::string error;
  auto sender = QueueSender::Open(config, &registry, "crmscope_agent", &error);
  REQUIRE_MESSAGE(sender, error);
  AppendBatches(*sender, 0, 40, 20, 10);  // 8000 samples
  REQUIRE(WaitFor([&] { return sender->stats().samples_retried > 0; }));
  CHECK(sender->stats().samples_sent == 0);
  CHECK(sender->stats().queue_bytes > 0);

  storage::Options storage_options;
  storage_options.path = (dir.path / "collector").string();
  auto storage = storage::Storage::Open(storage_options, &error);
  REQUIRE_MESSAGE(storage, error);
  api::ApiOptions api_options;
  api_options.http.listen_address = "127.0.0.1:" + std::to_string(port);
  api_options.registry = std::make_shared<prometheus::Registry>();
  auto collector = api::ApiServer::Start(api_options, &error);
  REQUIRE_MESSAGE(collector, error);
  collector->SetStorage(storage.get());

  REQUIRE(WaitFor([&] { return sender->stats().samples_sent >= 8000; }));
  sender->Close(std::chrono::seconds(5));
  QueueSender::Stats stats = sender->stats();
  CHECK(stats.samples_sent == 8000);  // a batch sent twice would count twice here
  CHECK(stats.samples_failed == 0);
  CHECK(stats.samples_dropped == 0);
  CHECK(stats.queue_bytes == 0);

  std::map<std::string, std::vector<Sample>> stored;
  storage::Querier querier = storage->NewQuerier(0, 1000000);
  Matchers all = {LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "__name__", ".+", &error)};
  for (const auto& entry : querier.Select(all)) {
    auto it = querier.Samples(entry.ref);
    auto& samples = stored[LabelsToString(entry.labels)];
    while (it->Next()) samples.push_back(it->At());
  }
  CheckHistories(stored, 20, 400);
  // The sender's metrics are on the registry under the agent's names.
  bool found = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "crmscope_agent_samples_sent_total") continue;
    found = true;
    REQUIRE(family.metric.size() == 1);
    CHECK(family.metric[0].counter.value == 8000);
  }
  CHECK(found);
  collector.reset();
}

TEST_CASE("a full queue drops its oldest samples, counts them, and delivers the rest once") {
  TempDir dir;
  const int port = UnusedPort();
  QueueSenderConfig config = FastConfig("http://127.0.0.1:" + std::to_string(port) + "/api/v1/write", dir.path);
  config.max_bytes = 64 << 10;
  config.max_shards = 1;
  config.capacity = 1;
  config.max_samples_per_send = 20;
  auto sender = OpenSender(config);
  const int kBatches = 400, kSeries = 20, kPerSeries = 2;  // ~120 bytes of snappy per batch at least
  AppendBatches(*sender, 0, kBatches, kSeries, kPerSeries);
  QueueSender::Stats down = sender->stats();
  CHECK(down.samples_dropped > 0);
  CHECK(down.queue_bytes <= config.max_bytes);
  CHECK(down.samples_sent == 0);

  ScriptedReceiver receiver(port);
  const uint64_t total = uint64_t{kBatches} * kSeries * kPerSeries;
  REQUIRE(WaitFor([&] {
    QueueSender::Stats s = sender->stats();
    return s.samples_sent + s.samples_dropped >= total;
  }));
  sender->Close(std::chrono::seconds(5));
  QueueSender::Stats stats = sender->stats();
  CHECK(stats.samples_sent + stats.samples_dropped == total);
  CHECK(stats.samples_dropped == down.samples_dropped);
  CHECK(receiver.stored_samples() == stats.samples_sent);
  // What went were old samples: each series' newest ones all arrived, in order, once.
  for (const auto& [name, samples] : receiver.series()) {
    INFO(name);
    REQUIRE(!samples.empty());
    CHECK(samples.back().t == TimestampMs{kBatches} * kPerSeries - 1);
    for (size_t i = 1; i < samples.size(); ++i) CHECK(samples[i].t > samples[i - 1].t);
  }
}

TEST_CASE("a restart resends what was queued, and not what was delivered") {
  TempDir dir;
  const int port = UnusedPort();
  QueueSenderConfig config = FastConfig("http://127.0.0.1:" + std::to_string(port) + "/api/v1/write", dir.path);
  {
    auto sender = OpenSender(config);
    AppendBatches(*sender, 0, 10, 5, 4);  // endpoint down: 200 samples wait on disk
    sender->Close(std::chrono::milliseconds(0));
    CHECK(sender->stats().samples_sent == 0);
  }
  ScriptedReceiver receiver(port);
  {
    auto sender = OpenSender(config);
    REQUIRE(WaitFor([&] { return receiver.stored_samples() >= 200; }));
    sender->Close(std::chrono::seconds(5));
    CHECK(sender->stats().samples_sent == 200);
  }
  auto sender = OpenSender(config);
  AppendBatches(*sender, 10, 20, 5, 4);
  REQUIRE(WaitFor([&] { return receiver.stored_samples() >= 400; }));
  sender->Close(std::chrono::seconds(5));
  CHECK(receiver.stored_samples() == 400);  // the first 200 were not sent again
  CheckHistories(receiver.series(), 5, 80);
}

// Two series that the sender's two shards split between them (a shard is hash % shards).
std::pair<std::string, std::string> NamesOnDifferentShards() {
  std::map<uint64_t, std::string> by_shard;
  for (int i = 0; by_shard.size() < 2; ++i) {
    std::string name = "series_" + std::to_string(i);
    by_shard.try_emplace(HashLabels(Labels{{"__name__", name}}) % 2, name);
  }
  return {by_shard[0], by_shard[1]};
}

TEST_CASE("kill -9 with data queued loses nothing; only batches in flight are sent again") {
  TempDir dir;
  // One shard's series is refused (503) until the parent says otherwise, the other's flows: the
  // queue's main position cannot pass the first record, but the second shard's own position does.
  auto [stuck, flowing] = NamesOnDifferentShards();
  std::atomic<bool> accept_all{false};
  ScriptedReceiver receiver(0, [&, stuck = stuck](size_t, const std::set<std::string>& names) {
    return accept_all || !names.count(stuck) ? Answer(204) : Answer(503);
  });
  QueueSenderConfig config = FastConfig(receiver.url(), dir.path);
  config.max_samples_per_send = 10;
  config.max_shards = 2;
  auto batch = [&](int b) {
    WriteRequest request;
    for (const std::string& name : {stuck, flowing}) {
      TimeSeries ts{{{"__name__", name}}, {}};
      for (int j = 0; j < 5; ++j) ts.samples.push_back({b * 5 + j, 1.0});
      request.series.push_back(ts);
    }
    return request;
  };
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string error;
    auto sender = QueueSender::Open(config, nullptr, "test", &error);
    if (!sender) _exit(1);
    for (int b = 0; b < 50; ++b) {
      if (!sender->Append(batch(b), &error)) _exit(1);
    }
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (sender->stats().samples_sent < 250 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    raise(SIGKILL);
    _exit(2);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(receiver.series()[flowing + "{}"].size() == 250);
  CHECK(receiver.series()[stuck + "{}"].empty());
  accept_all = true;
  auto sender = OpenSender(config);
  auto distinct = [&](const std::string& name) {
    std::set<TimestampMs> times;
    auto series = receiver.series();  // a range-for over a part of the temporary would dangle
    for (const Sample& s : series[name + "{}"]) times.insert(s.t);
    return times.size();
  };
  REQUIRE(WaitFor([&] { return distinct(stuck) == 250; }));
  sender->Close(std::chrono::seconds(5));
  CHECK(receiver.series()[stuck + "{}"].size() == 250);
  // Resent: at most the flowing shard's last batch, if the kill came between its answer and the
  // checkpoint; without per-shard positions all its 250 samples would go again.
  size_t resent = receiver.series()[flowing + "{}"].size() - 250;
  MESSAGE("samples sent twice after kill -9: " << resent);
  CHECK(resent <= static_cast<size_t>(config.max_samples_per_send));
}

TEST_CASE("a remote_write item parses with Prometheus's key names, strictly") {
  TempDir dir;
  std::ofstream(dir.path / "token") << "from-file\n";
  YAML::Node item = YAML::Load(R"(
url: https://mimir.example/api/v1/push
name: central
remote_timeout: 10s
bearer_token_file: token
headers: {X-Scope-OrgID: crm}
queue_config:
  capacity: 5000
  max_shards: 8
  min_shards: 2
  max_samples_per_send: 1000
  batch_send_deadline: 2s
  min_backoff: 50ms
  max_backoff: 10s
  retry_on_http_429: false
queue: {path: q, max_bytes: 1GB}
)");
  QueueSenderConfig c;
  c.external_labels = {{"dc", "eu1"}};
  std::string error;
  REQUIRE_MESSAGE(ParseQueueSenderConfig(item, &c, &error, dir.path.string()), error);
  CHECK(c.url == "https://mimir.example/api/v1/push");
  CHECK(c.name == "central");
  CHECK(c.timeout_ms == 10000);
  CHECK(c.bearer_token == "from-file");
  CHECK(c.headers == std::vector<std::pair<std::string, std::string>>{{"X-Scope-OrgID", "crm"}});
  CHECK(c.capacity == 5000);
  CHECK(c.max_shards == 8);
  CHECK(c.min_shards == 2);
  CHECK(c.max_samples_per_send == 1000);
  CHECK(c.batch_send_deadline_ms == 2000);
  CHECK(c.min_backoff_ms == 50);
  CHECK(c.max_backoff_ms == 10000);
  CHECK_FALSE(c.retry_on_http_429);
  CHECK(c.queue_dir == (dir.path / "q").string());
  CHECK(c.max_bytes == (uint64_t{1} << 30));
  CHECK(c.external_labels.size() == 1);  // kept: it comes from the global section

  auto error_for = [](const std::string& yaml) {
    QueueSenderConfig ignored;
    std::string e;
    CHECK_FALSE(ParseQueueSenderConfig(YAML::Load(yaml), &ignored, &e));
    return e;
  };
  CHECK(error_for("url: http://a/w\nqueue_config:\n  max_shard: 3\n") ==
        "3:3: unknown key \"max_shard\" in queue_config");
  CHECK(error_for("name: x\n") == "1:1: url is required");
  CHECK(error_for("url: ftp://a/w\n") == "1:6: url must start with http:// or https://");
  CHECK(error_for("url: http://a/w\nqueue_config: {min_shards: 5, max_shards: 2}\n") ==
        "2:15: min_shards must not exceed max_shards");
  CHECK(error_for("url: http://a/w\nremote_timeout: soon\n").rfind("2:17: remote_timeout: ", 0) == 0);
  CHECK(error_for("url: http://a/w\nbearer_token: a\nbearer_token_file: b\n") ==
        "3:20: at most one of bearer_token and bearer_token_file may be set");
  CHECK(error_for("url: http://a/w\nname: ../etc\n") ==
        "2:7: name may only hold letters, digits, '_', '.' and '-'");
  CHECK(error_for("url: http://a/w\nheaders: {Authorization: x}\n") ==
        "2:11: header \"Authorization\" is set by the sender");
  CHECK(error_for("url: http://a/w\nurl: http://b/w\n") == "2:1: duplicate key \"url\" in remote_write");
}
