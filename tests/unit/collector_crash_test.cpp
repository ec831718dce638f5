// kill -9 of crmscope-collector while remote writes are in flight must lose no acknowledged sample
// and store none twice: a 204 promises the batch is durable (Prometheus's sender drops a batch once
// it has a 2xx, so anything lost after that is lost for good), and a resend after recovery must not
// duplicate what the write-ahead replay restored.
//
// Two writers own 100 series each and send, request after request, the next timestamp of every
// series they own. The collector is killed while requests are in flight, restarted on the same
// directory, accepts one more timestamp, is stopped with SIGTERM, and its storage is then read
// in-process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
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

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int FreeLoopbackPort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return ntohs(addr.sin_port);
}

// One HTTP/1.1 request per connection; returns the status code, or 0 when the connection failed
// (refused, reset, or no answer within 5 s).
int HttpRequest(int port, const std::string& method, const std::string& path,
                const std::string& body = "") {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  if (fd.get() < 0) return 0;
  timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (method == "POST") {
    request += "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
               "X-Prometheus-Remote-Write-Version: 0.1.0\r\n";
  }
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
  // "HTTP/1.1 204 No Content"
  if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(answer.c_str() + answer.find(' ') + 1);
}

// The collector as a child process in its own process group.
class CollectorProcess {
 public:
  CollectorProcess(const std::string& storage_dir) : port_(FreeLoopbackPort()) {
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    const std::string storage = "--storage.path=" + storage_dir;
    const std::string log = storage_dir + "/../collector.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log_fd >= 0) { ::dup2(log_fd, 1); ::dup2(log_fd, 2); }
      ::execl(kCollector, kCollector, listen.c_str(), storage.c_str(), "--log.level=warn",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also from the parent, so a kill right after fork finds the group
  }
  ~CollectorProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }
  CollectorProcess(const CollectorProcess&) = delete;
  CollectorProcess& operator=(const CollectorProcess&) = delete;

  int port() const { return port_; }

  bool WaitReady(std::chrono::seconds deadline) const {
    const auto end = Clock::now() + deadline;
    while (Clock::now() < end) {
      if (HttpRequest(port_, "GET", "/-/ready") == 200) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return false;  // exited: it will never be
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Sends `signal` to the process group and waits (bounded) for the exit; returns the wait status.
  int Kill(int signal) {
    ::kill(-pid_, signal);
    int status = -1;
    const auto end = Clock::now() + 20s;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        status = -1;
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    return status;
  }

 private:
  int port_;
  pid_t pid_ = -1;
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
