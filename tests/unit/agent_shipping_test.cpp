// End to end: crmscope-agent tails an access log and ships to crmscope-collector over remote
// write. The collector goes down, the agent keeps collecting into its queue, is killed with -9,
// and both come back: every collection the agent made is in the collector, once, on its tick
// grid, with the counts the log implies.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "collector/storage/storage.h"
#include "common/label_matcher.h"
#include "tests/unit/test_processes.h"

namespace {

using namespace std::chrono_literals;
using crmscope::TimestampMs;
using crmscope::testing::ChildProcess;
using crmscope::testing::Clock;
using crmscope::testing::FreeLoopbackPort;
using crmscope::testing::HttpRequest;
namespace fs = std::filesystem;

constexpr const char* kCollector = CRMSCOPE_BINARY_DIR "/collector/crmscope-collector";
constexpr const char* kAgent = CRMSCOPE_BINARY_DIR "/agent/core/crmscope-agent";
constexpr TimestampMs kIntervalMs = 200;

TimestampMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendLines(const std::string& path, int n) {
  std::ofstream out(path, std::ios::app);
  for (int i = 0; i < n; ++i) {
    out << "1700000000.123 GET /api/customers/" << i << " 200 0.004 127.0.0.1:8081\n";
  }
}

// The value of the first sample line of `family` in a text exposition whose labels contain
// `label_part`, or -1.
double MetricValue(const std::string& text, const std::string& family,
                   const std::string& label_part = "") {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0 || line.find(label_part) == std::string::npos) continue;
    if (line.size() > family.size() && line[family.size()] != '{' && line[family.size()] != ' ') {
      continue;
    }
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

double AgentMetric(int port, const std::string& family, const std::string& label_part = "") {
  std::string body;
  if (HttpRequest(port, "GET", "/metrics", "", &body) != 200) return -1;
  return MetricValue(body, family, label_part);
}

// Polls until `done` or the deadline; returns done()'s last answer.
template <typename F>
bool PollUntil(std::chrono::seconds deadline, F done) {
  const auto end = Clock::now() + deadline;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

struct Stack {
  fs::path dir;
  std::string log, config;
  int collector_port = FreeLoopbackPort(), agent_port = FreeLoopbackPort();

  std::unique_ptr<ChildProcess> StartCollector() const {
    auto child = std::make_unique<ChildProcess>(
        kCollector,
        std::vector<std::string>{"--web.listen-address=127.0.0.1:" + std::to_string(collector_port),
                                 "--storage.path=" + (dir / "data").string(), "--log.level=warn"},
        (dir / "collector.log").string());
    REQUIRE(child->WaitHttpOk(collector_port, "/-/ready", 30s));
    return child;
  }
  std::unique_ptr<ChildProcess> StartAgent() const {
    auto child = std::make_unique<ChildProcess>(
        kAgent,
        std::vector<std::string>{"--config.file=" + config,
                                 "--web.listen-address=127.0.0.1:" + std::to_string(agent_port),
                                 "--storage.path=" + (dir / "agent").string()},
        (dir / "agent.log").string());
    REQUIRE(child->WaitHttpOk(agent_port, "/-/ready", 30s));
    return child;
  }
};

}  // namespace

TEST_CASE("agent: a collector outage and kill -9 of the agent lose no collection") {
  Stack s;
  s.dir = fs::temp_directory_path() / ("crmscope-agent-ship-" + std::to_string(::getpid()));
  fs::remove_all(s.dir);
  fs::create_directories(s.dir);
  s.log = (s.dir / "access.log").string();
  s.config = (s.dir / "agent.yml").string();
  { std::ofstream(s.log).flush(); }
  std::ofstream(s.config) << "global:\n  interval: 200ms\n"
                          << "sources:\n  nginx_log:\n    - path: " << s.log << "\n"
                          << "      log_format: '$msec $request_method $uri $status $request_time "
                             "$upstream_addr'\n"
                          << "remote_write:\n  - name: collector\n    url: http://127.0.0.1:"
                          << s.collector_port << "/api/v1/write\n"
                          << "    queue_config: {batch_send_deadline: 100ms, min_backoff: 20ms, "
                             "max_backoff: 200ms}\n";

  auto collector = s.StartCollector();
  auto agent = s.StartAgent();
  AppendLines(s.log, 50);
  const std::string series_path = "/api/v1/series?match[]=crmscope_proxy_requests_total";
  REQUIRE(PollUntil(30s, [&] {
    std::string body;
    return HttpRequest(s.collector_port, "GET", series_path, "", &body) == 200 &&
           body.find("crmscope_proxy_requests_total") != std::string::npos;
  }));

  // The collector goes away; the agent goes on collecting into its queue.
  const TimestampMs down_at = NowMs();
  collector->Kill(SIGTERM);
  AppendLines(s.log, 50);
  const double before = AgentMetric(s.agent_port, "crmscope_agent_collections_total");
  REQUIRE(before > 0);
  REQUIRE(PollUntil(30s, [&] {
    return AgentMetric(s.agent_port, "crmscope_agent_collections_total") >= before + 8;
  }));
  CHECK(AgentMetric(s.agent_port, "crmscope_agent_queue_bytes") > 0);
  const double read = AgentMetric(s.agent_port, "crmscope_agent_samples_read_total");
  const double sent = AgentMetric(s.agent_port, "crmscope_agent_samples_sent_total");
  const double collections = AgentMetric(s.agent_port, "crmscope_agent_collections_total");
  const TimestampMs killed_at = NowMs();
  agent->Kill(SIGKILL);

  // Both return; the restarted agent finds its queue and delivers it without waiting for new data
  // of its own (its log source has none): its queue empties, and it sends at least what the first
  // agent had read and not sent (more if a batch was in flight at the kill or a collection came
  // after the figures above).
  collector = s.StartCollector();
  const auto restarted_at = Clock::now();
  agent = s.StartAgent();
  REQUIRE(PollUntil(60s, [&] {
    return AgentMetric(s.agent_port, "crmscope_agent_queue_bytes") == 0 &&
           AgentMetric(s.agent_port, "crmscope_agent_samples_sent_total") >= read - sent;
  }));
  MESSAGE("backlog delivered "
          << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - restarted_at).count()
          << " ms after the restart");
  agent->Kill(SIGTERM);
  collector->Kill(SIGTERM);

  crmscope::storage::Options options;
  options.path = (s.dir / "data").string();
  std::string error;
  auto storage = crmscope::storage::Storage::Open(options, &error);
  REQUIRE_MESSAGE(storage != nullptr, error);
  auto querier = storage->NewQuerier(down_at - 60'000, NowMs());
  auto series = querier.Select({crmscope::LabelMatcher::Make(
      crmscope::LabelMatcher::Type::kEqual, "__name__", "crmscope_proxy_requests_total", &error)});
  REQUIRE(series.size() == 1);
  std::vector<crmscope::Sample> samples;
  for (auto it = querier.Samples(series[0].ref); it->Next();) samples.push_back(it->At());
  // Every tick from the outage to the kill is there, each once, 200 ms apart.
  std::vector<crmscope::Sample> outage;
  for (const auto& sample : samples) {
    if (sample.t > down_at && sample.t < killed_at) outage.push_back(sample);
  }
  // One sample per collection the agent counted while the collector was down (a collection at
  // either edge may fall outside the window), each on the 200 ms grid: a busy machine may skip a
  // tick, but no collection's sample may be missing.
  REQUIRE(outage.size() >= 8);
  CHECK(static_cast<double>(outage.size()) >= collections - before - 2);
  for (size_t i = 1; i < outage.size(); ++i) CHECK((outage[i].t - outage[i - 1].t) % kIntervalMs == 0);
  for (size_t i = 1; i < samples.size(); ++i) CHECK(samples[i].t > samples[i - 1].t);
  CHECK(outage.back().v == 100);  // both batches of lines counted, by the first agent
  fs::remove_all(s.dir);
}
