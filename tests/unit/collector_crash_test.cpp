// kill -9 of crmscope-collector while remote writes are in flight must lose no acknowledged sample
// and store none twice: a 204 promises the batch is durable (Prometheus's sender drops a batch once
// it has a 2xx, so anything lost after that is lost for good), and a resend after recovery must not
// duplicate what the write-ahead replay restored.
//
// Two writers own 100 series each and send, request after request, the next timestamp of every
// series they own. The collector is killed while requests are in flight, restarted on the same
// directory, accepts one more timestamp, is stopped with SIGTERM, and its storage is then read
// in-process.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "collector/storage/storage.h"
#include "common/label_matcher.h"
#include "exporters/remote_write/codec.h"
#include "tests/unit/test_processes.h"

namespace {

using namespace std::chrono_literals;
using crmscope::testing::ChildProcess;
using crmscope::testing::Clock;
using crmscope::testing::FreeLoopbackPort;
using crmscope::testing::HttpRequest;
using crmscope::Labels;
using crmscope::Sample;
using crmscope::TimestampMs;

constexpr const char* kCollector = CRMSCOPE_BINARY_DIR "/collector/crmscope-collector";
constexpr int kWriters = 2;
constexpr int kSeriesPerWriter = 100;
constexpr TimestampMs kStepMs = 1000;
constexpr int kMaxSteps = 100'000;  // bounds the writers if the kill never comes

TimestampMs BaseTimestamp() {
  // An hour ago, so every sample is well inside the default 15-day retention.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const TimestampMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return now_ms - 3600 * 1000 - (now_ms % kStepMs);
}

double ValueAt(int series, int step) { return series * 1'000'000.0 + step + 0.25; }

// The collector as a child process in its own process group.
class CollectorProcess {
 public:
  explicit CollectorProcess(const std::string& storage_dir)
      : port_(FreeLoopbackPort()),
        child_(kCollector,
               {"--web.listen-address=127.0.0.1:" + std::to_string(port_),
                "--storage.path=" + storage_dir, "--log.level=warn"},
               storage_dir + "/../collector.log") {}

  int port() const { return port_; }
  bool WaitReady(std::chrono::seconds deadline) const {
    return child_.WaitHttpOk(port_, "/-/ready", deadline);
  }
  int Kill(int signal) { return child_.Kill(signal); }

 private:
  int port_;
  ChildProcess child_;
};

std::string WriteBody(int writer, int step, TimestampMs base) {
  crmscope::remote_write::WriteRequest request;
  for (int i = 0; i < kSeriesPerWriter; ++i) {
    const int series = writer * kSeriesPerWriter + i;
    Labels labels = {{"__name__", "crash_test_samples"}, {"series", std::to_string(series)}};
    request.series.push_back({std::move(labels), {{base + step * kStepMs, ValueAt(series, step)}}});
  }
  return crmscope::remote_write::Encode(request);
}

struct WriterState {
  std::atomic<int> acknowledged{-1};  // last step answered 204
  std::atomic<int> attempted{-1};     // last step sent
  int failed_status = -1;             // the first non-204 answer (0: connection failed)
  Clock::time_point failed_at;
};

// Writes step after step until a request is not acknowledged or the steps run out.
void RunWriter(int writer, int port, TimestampMs base, std::atomic<int>* in_flight,
               WriterState* state) {
  for (int step = 0; step < kMaxSteps; ++step) {
    const std::string body = WriteBody(writer, step, base);
    state->attempted = step;
    in_flight->fetch_add(1);
    const int status = HttpRequest(port, "POST", "/api/v1/write", body);
    in_flight->fetch_sub(1);
    if (status != 204) {
      state->failed_status = status;
      state->failed_at = Clock::now();
      return;
    }
    state->acknowledged = step;
  }
}

crmscope::MatcherPtr Equal(const std::string& name, const std::string& value) {
  return crmscope::LabelMatcher::Make(crmscope::LabelMatcher::Type::kEqual, name, value, nullptr);
}

}  // namespace

TEST_CASE("kill -9 during remote writes loses no acknowledged sample and duplicates none") {
  REQUIRE_MESSAGE(std::filesystem::exists(kCollector), "build crmscope-collector first");
  char dir_template[] = "/tmp/crmscope-crash-test.XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::filesystem::path work = dir_template;
  const std::string storage_dir = (work / "data").string();
  std::filesystem::create_directories(storage_dir);
  const TimestampMs base = BaseTimestamp();

  WriterState states[kWriters];
  {
    CollectorProcess collector(storage_dir);
    REQUIRE_MESSAGE(collector.WaitReady(10s), "collector not ready, see " << work / "collector.log");
    std::atomic<int> in_flight{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back(RunWriter, w, collector.port(), base, &in_flight, &states[w]);
    }
    // ~1.5 s of sustained writes, then kill while a request is being handled.
    const auto kill_after = Clock::now() + 1500ms;
    while (Clock::now() < kill_after) std::this_thread::sleep_for(10ms);
    const auto give_up = Clock::now() + 2s;
    while (in_flight.load() == 0 && Clock::now() < give_up) std::this_thread::yield();
    const bool killed_in_flight = in_flight.load() > 0;
    const auto killed_at = Clock::now();
    collector.Kill(SIGKILL);
    for (auto& t : writers) t.join();
    CHECK(killed_in_flight);
    for (const WriterState& s : states) {
      INFO("writer stopped with status " << s.failed_status);
      CHECK(s.failed_at >= killed_at);  // every request before the kill was acknowledged
      CHECK(s.acknowledged.load() >= 10);  // the writes were sustained, not a trickle
    }
  }
  MESSAGE("acknowledged steps: " << states[0].acknowledged.load() << ", "
                                 << states[1].acknowledged.load());

  // Restart on the same directory: recovery, then one more timestamp past anything sent.
  int next_step = 0;
  for (const WriterState& s : states) next_step = std::max(next_step, s.attempted.load() + 1);
  {
    CollectorProcess collector(storage_dir);
    REQUIRE_MESSAGE(collector.WaitReady(30s), "collector did not recover, see "
                                                  << work / "collector.log");
    for (int w = 0; w < kWriters; ++w) {
      CHECK(HttpRequest(collector.port(), "POST", "/api/v1/write",
                        WriteBody(w, next_step, base)) == 204);
    }
    CHECK(WIFEXITED(collector.Kill(SIGTERM)));
  }

  std::string error;
  crmscope::storage::Options options;
  options.path = storage_dir;
  auto storage = crmscope::storage::Storage::Open(options, &error);
  REQUIRE_MESSAGE(storage, error);
  auto querier = storage->NewQuerier(base - kStepMs, base + (next_step + 1) * kStepMs);
  const auto series = querier.Select({Equal("__name__", "crash_test_samples")});
  REQUIRE(series.size() == kWriters * kSeriesPerWriter);
  for (const auto& entry : series) {
    const int id = std::stoi(std::string(crmscope::GetLabel(entry.labels, "series")));
    const WriterState& state = states[id / kSeriesPerWriter];
    std::map<int, double> by_step;
    TimestampMs previous = INT64_MIN;
    for (auto it = querier.Samples(entry.ref); it->Next();) {
      const Sample s = it->At();
      REQUIRE_MESSAGE(s.t > previous, "series " << id << ": timestamp " << s.t << " after "
                                                << previous);
      previous = s.t;
      REQUIRE((s.t - base) % kStepMs == 0);
      by_step[static_cast<int>((s.t - base) / kStepMs)] = s.v;
    }
    for (int step = 0; step <= state.acknowledged.load(); ++step) {
      const auto found = by_step.find(step);
      REQUIRE_MESSAGE(found != by_step.end(), "series " << id << " lost acknowledged step " << step);
      REQUIRE(found->second == ValueAt(id, step));
    }
    for (const auto& [step, value] : by_step) {
      INFO("series " << id << " step " << step);
      CHECK(value == ValueAt(id, step));
      // Beyond the acknowledged ones only the unacknowledged in-flight step and the one written
      // after the restart may be there.
      CHECK((step <= state.attempted.load() || step == next_step));
    }
    CHECK(by_step.count(next_step) == 1);
  }
  storage.reset();
  std::filesystem::remove_all(work);
}
