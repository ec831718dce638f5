// The agent's collection loop: batches per collection, metadata once a minute, target outcomes,
// and the derived series as the agent's /metrics shows them.
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "agent/core/collection_loop.h"

using namespace crmscope;
using namespace crmscope::agent;

namespace {

class FakeSource : public Source {
 public:
  std::string_view name() const override { return "fake"; }
  void Collect(TimestampMs now, SampleSink& sink) override {
    ++collections;
    sink.Describe("crm_requests", MetricKind::kCounter, "Requests \\ served.", "");
    sink.Describe("crm_latency_seconds", MetricKind::kHistogram, "Latency.", "seconds");
    sink.Add({{"__name__", "crm_requests_total"}, {"route", "/a\"b"}}, 10.0 * collections);
    sink.Add({{"__name__", "crm_latency_seconds_bucket"}, {"le", "+Inf"}}, 3);
    sink.Add({{"__name__", "crm_latency_seconds_count"}}, 3);
    sink.Add({{"__name__", "up"}, {"instance", "x"}}, collections % 2);
    sink.Add({{"__name__", "gone"}}, StaleNaN());
    last_now = now;
  }
  int collections = 0;
  TimestampMs last_now = 0;
};

double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& outcome = "") {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool match = outcome.empty();
      for (const auto& label : metric.label) match |= label.value == outcome;
      if (match) return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                       : metric.gauge.value;
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("collection loop: one batch per collection, metadata first and then once a minute") {
  auto source = std::make_unique<FakeSource>();
  FakeSource* fake = source.get();
  std::vector<ScheduledSource> sources;
  sources.push_back({std::move(source), 1000});
  std::vector<remote_write::WriteRequest> batches;
  TimestampMs clock = 1'000'000;
  prometheus::Registry registry;
  CollectionLoop loop(
      std::move(sources), [&](const remote_write::WriteRequest& b) { batches.push_back(b); },
      registry, [&] { return clock; });
  loop.CollectAllOnce();
  clock += 30'000;
  loop.CollectAllOnce();
  clock += 31'000;
  loop.CollectAllOnce();
  REQUIRE(batches.size() == 3);
  CHECK(fake->last_now == 1'061'000);
  REQUIRE(batches[0].series.size() == 5);
  CHECK(batches[0].series[0].samples[0].t == 1'000'000);
  CHECK(batches[2].series[0].samples[0].v == 30);
  CHECK(batches[0].metadata.size() == 2);
  CHECK(batches[1].metadata.empty());     // 30 s later: not due
  CHECK(batches[2].metadata.size() == 2);  // 61 s after the first
  CHECK(batches[0].metadata[0].family == "crm_latency_seconds");  // sorted by family
  CHECK(batches[0].metadata[0].unit == "seconds");
  CHECK(CounterValue(registry, "crmscope_agent_collections_total") == 3);
  CHECK(CounterValue(registry, "crmscope_agent_samples_read_total") == 15);
  CHECK(CounterValue(registry, "crmscope_agent_target_checks_total", "success") == 2);
  CHECK(CounterValue(registry, "crmscope_agent_target_checks_total", "failure") == 1);
}

TEST_CASE("collection loop: the latest collection in the text format, grouped by family") {
  std::vector<ScheduledSource> sources;
  sources.push_back({std::make_unique<FakeSource>(), 1000});
  prometheus::Registry registry;
  CollectionLoop loop(
      std::move(sources), [](const remote_write::WriteRequest&) {}, registry, [] { return 5; });
  loop.CollectAllOnce();
  std::string text;
  loop.AppendLatestExposition(&text);
  CHECK(text ==
        "# HELP crm_latency_seconds Latency.\n"
        "# TYPE crm_latency_seconds histogram\n"
        "crm_latency_seconds_bucket{le=\"+Inf\"} 3\n"
        "crm_latency_seconds_count 3\n"
        "# HELP crm_requests_total Requests \\\\ served.\n"
        "# TYPE crm_requests_total counter\n"
        "crm_requests_total{route=\"/a\\\"b\"} 10\n"
        "# TYPE up untyped\n"
        "up{instance=\"x\"} 1\n");  // the stale "gone" is absent
}

TEST_CASE("collection loop: ticks on a fixed grid from the start, and stops promptly") {
  std::vector<ScheduledSource> sources;
  auto source = std::make_unique<FakeSource>();
  FakeSource* fake = source.get();
  sources.push_back({std::move(source), 20});
  std::mutex mu;
  std::vector<TimestampMs> stamps;
  prometheus::Registry registry;
  auto wall = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  CollectionLoop loop(
      std::move(sources),
      [&](const remote_write::WriteRequest& b) {
        std::lock_guard<std::mutex> lock(mu);
        stamps.push_back(b.series[0].samples[0].t);
      },
      registry, wall);
  loop.Start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stamps.size() >= 5) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto stop_started = std::chrono::steady_clock::now();
  loop.Stop();
  CHECK(std::chrono::steady_clock::now() - stop_started < std::chrono::seconds(1));
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(stamps.size() >= 5);
  CHECK(fake->collections == static_cast<int>(stamps.size()));
  for (size_t i = 1; i < stamps.size(); ++i) CHECK((stamps[i] - stamps[0]) % 20 == 0);
}
