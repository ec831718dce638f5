// A collector forwarding what it ingests to a second collector, both in-process on loopback:
// everything accepted arrives downstream exactly once, in order; what the first refused, and
// resends it took as duplicates, are not forwarded (a receiver without out-of-order ingestion
// would refuse the whole batch for them); queued samples survive a restart of the first.
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/api_server.h"
#include "collector/remote/forwarder.h"
#include "collector/storage/storage.h"
#include "common/label_matcher.h"
#include "exporters/remote_write/codec.h"

using namespace crmscope;
namespace rw = crmscope::remote_write;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "crmscope-forward-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

bool WaitFor(const std::function<bool()>& condition) {
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not a sync
  }
  return true;
}

using History = std::map<std::string, std::vector<Sample>>;

// A collector: storage, optional forwarder, API on a loopback port.
struct Collector {
  fs::path dir;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<collector::Forwarder> forwarder;
  std::unique_ptr<api::ApiServer> server;

  Collector(fs::path data_dir, std::vector<rw::QueueSenderConfig> forward = {},
            api::WriteLimits limits = {})
      : dir(std::move(data_dir)) {
    std::string error;
    storage::Options storage_options;
    storage_options.path = dir.string();
    storage = storage::Storage::Open(storage_options, &error);
    REQUIRE_MESSAGE(storage, error);
    if (!forward.empty()) {
      forwarder = collector::Forwarder::Open(forward, dir.string(), registry.get(), &error);
      REQUIRE_MESSAGE(forwarder, error);
    }
    api::ApiOptions options;
    options.http.listen_address = "127.0.0.1:0";
    options.limits = limits;
    options.registry = registry;
    options.ingest_listener = forwarder.get();
    server = api::ApiServer::Start(options, &error);
    REQUIRE_MESSAGE(server, error);
    server->SetStorage(storage.get());
  }
  ~Collector() {
    server.reset();
    if (forwarder) forwarder->Close(std::chrono::milliseconds(0));
    forwarder.reset();
    storage.reset();
  }
  std::string write_url() const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + "/api/v1/write";
  }

  // Posts a remote-write request; returns the HTTP status.
  long Write(const rw::WriteRequest& request) const {
    std::string body = rw::Encode(request);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
    headers = curl_slist_append(headers, "Content-Encoding: snappy");
    std::string url = write_url();
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
    long status = 0;
    if (curl_easy_perform(curl.get()) == CURLE_OK) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return status;
  }

  History Read() const {
    History out;
    std::string error;
    storage::Querier querier = storage->NewQuerier(0, 1LL << 40);
    Matchers all = {LabelMatcher::Make(LabelMatcher::Type::kRegexMatch, "__name__", ".+", &error)};
    for (const auto& entry : querier.Select(all)) {
      auto it = querier.Samples(entry.ref);
      auto& samples = out[LabelsToString(entry.labels)];
      while (it->Next()) samples.push_back(it->At());
    }
    return out;
  }
  size_t SampleCount() const {
    size_t n = 0;
    for (const auto& [name, samples] : Read()) n += samples.size();
    return n;
  }
};

rw::QueueSenderConfig ForwardTo(const std::string& url) {
  rw::QueueSenderConfig c;
  c.url = url;
  c.name = "downstream";
  c.max_shards = 2;
  c.batch_send_deadline_ms = 20;
  c.min_backoff_ms = 10;
  c.max_backoff_ms = 100;
  c.external_labels = {{"collector", "a"}};
  return c;
}

rw::TimeSeries Series(Labels labels, std::vector<TimestampMs> times) {
  rw::TimeSeries ts{std::move(labels), {}};
  for (TimestampMs t : times) ts.samples.push_back({t, static_cast<double>(t) / 4});
  return ts;
}

std::vector<Sample> Samples(std::vector<TimestampMs> times) {
  return Series({}, std::move(times)).samples;
}

bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t || !SameValueBits(a[i].v, b[i].v)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("everything a collector accepts arrives at the next one once, with external labels") {
  TempDir dir;
  Collector downstream(dir.path / "b");
  Collector upstream(dir.path / "a", {ForwardTo(downstream.write_url())});
  constexpr int kRequests = 30, kSeries = 50, kPerSeries = 4;
  for (int r = 0; r < kRequests; ++r) {
    rw::WriteRequest request;
    for (int i = 0; i < kSeries; ++i) {
      std::vector<TimestampMs> times;
      for (int j = 0; j < kPerSeries; ++j) times.push_back(1000 + r * kPerSeries + j);
      request.series.push_back(Series({{"__name__", "crm_requests"}, {"node", std::to_string(i)}}, times));
    }
    REQUIRE(upstream.Write(request) == 204);
  }
  const size_t total = size_t{kRequests} * kSeries * kPerSeries;
  REQUIRE(WaitFor([&] { return downstream.SampleCount() >= total; }));
  History got = downstream.Read();
  CHECK(got.size() == kSeries);
  std::vector<TimestampMs> all_times;
  for (int t = 0; t < kRequests * kPerSeries; ++t) all_times.push_back(1000 + t);
  for (int i = 0; i < kSeries; ++i) {
    std::string name = "crm_requests{collector=\"a\", node=\"" + std::to_string(i) + "\"}";
    INFO(name);
    REQUIRE(got.count(name) == 1);
    CHECK(SameSamples(got[name], Samples(all_times)));
  }
  // Counted once the downstream's answer is in, which may come after the samples are readable.
  const auto& sender = *upstream.forwarder->senders()[0];
  REQUIRE(WaitFor([&] { return sender.stats().samples_sent >= total; }));
  rw::QueueSender::Stats stats = sender.stats();
  CHECK(stats.samples_sent == total);
  CHECK(stats.samples_failed == 0);
}

TEST_CASE("what the collector refused, and resends it took as duplicates, are not forwarded") {
  TempDir dir;
  Collector downstream(dir.path / "b");
  api::WriteLimits limits;
  limits.max_labels_per_series = 3;
  Collector upstream(dir.path / "a", {ForwardTo(downstream.write_url())}, limits);
  Labels x = {{"__name__", "x"}}, y = {{"__name__", "y"}};
  Labels too_many = {{"__name__", "z"}, {"a", "1"}, {"b", "2"}, {"c", "3"}};
  Labels invalid = {{"__name__", "w"}, {"bad-name", "1"}};

  rw::WriteRequest first;
  first.series = {Series(x, {1, 2, 3, 4, 5})};
  REQUIRE(upstream.Write(first) == 204);
  // A sender's retry: 3..5 again (duplicates, accepted) and 6, 7 new.
  rw::WriteRequest resend;
  resend.series = {Series(x, {3, 4, 5, 6, 7})};
  REQUIRE(upstream.Write(resend) == 204);
  // x goes back in time (refused), y is new; z is over the receiver's limit, w has an invalid
  // label name: both refused whole. The collector answers 400 but stores x's 8 and all of y.
  rw::WriteRequest mixed;
  mixed.series = {Series(x, {2, 8}), Series(y, {10, 11}), Series(too_many, {1}), Series(invalid, {1})};
  REQUIRE(upstream.Write(mixed) == 400);

  History stored = upstream.Read();
  REQUIRE(stored.size() == 2);
  REQUIRE(WaitFor([&] { return downstream.SampleCount() >= 10; }));
  upstream.forwarder->Close(std::chrono::seconds(5));  // delivers anything still queued
  History got = downstream.Read();
  REQUIRE(got.size() == 2);
  CHECK(SameSamples(got["x{collector=\"a\"}"], Samples({1, 2, 3, 4, 5, 6, 7, 8})));
  CHECK(SameSamples(got["y{collector=\"a\"}"], Samples({10, 11})));
  rw::QueueSender::Stats stats = upstream.forwarder->senders()[0]->stats();
  CHECK(stats.samples_sent == 10);   // the resent 3, 4, 5 went once
  CHECK(stats.samples_failed == 0);  // the downstream never refused a batch
  bool found = false;
  for (const auto& family : upstream.registry->Collect()) {
    if (family.name != "crmscope_collector_forward_samples_skipped_total") continue;
    found = true;
    CHECK(family.metric.at(0).counter.value == 4);  // 3, 4, 5 resent and x's 2
  }
  CHECK(found);
}

TEST_CASE("samples queued for a downstream that is down go out after the collector restarts") {
  TempDir dir;
  rw::QueueSenderConfig forward = ForwardTo("http://127.0.0.1:1/api/v1/write");  // nobody there
  {
    Collector upstream(dir.path / "a", {forward});
    rw::WriteRequest request;
    request.series = {Series({{"__name__", "q"}}, {1, 2, 3})};
    REQUIRE(upstream.Write(request) == 204);
    REQUIRE(WaitFor([&] { return upstream.forwarder->senders()[0]->stats().samples_retried > 0; }));
  }
  CHECK(fs::exists(dir.path / "a" / "forward" / "downstream"));
  Collector downstream(dir.path / "b");
  forward.url = downstream.write_url();
  Collector restarted(dir.path / "a", {forward});
  REQUIRE(WaitFor([&] { return downstream.SampleCount() >= 3; }));
  History got = downstream.Read();
  CHECK(SameSamples(got["q{collector=\"a\"}"], Samples({1, 2, 3})));
}
