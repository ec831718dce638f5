// The load generator's scheduling against a real HTTP server on loopback (CivetWeb, port 0) that
// stalls every request for 500 ms once: the open loop must show the stall in its latencies (no
// coordinated omission), the closed loop hides it, and the open loop keeps its rate.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "exporters/http/http_server.h"
#include "crm_demo/loadgen/customer_population.h"
#include "crm_demo/loadgen/load_driver.h"
#include "crm_demo/loadgen/workload.h"

using namespace crmscope::loadgen;
using crmscope::http::HttpRequest;
using crmscope::http::HttpResponse;
using crmscope::http::HttpServer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kMs = 1'000'000;

// Answers 200 to everything; the first request that arrives `stall_after` after Arm() starts a
// stall during which every request, in flight or arriving, waits until it is over (a database
// lock or a GC pause: the whole server stops, not one request).
class StallingServer {
 public:
  StallingServer(std::chrono::milliseconds stall_after, std::chrono::milliseconds stall)
      : stall_after_(stall_after), stall_(stall) {
    HttpServer::Options options;
    options.listen_address = "127.0.0.1:0";
    options.num_threads = 40;  // CivetWeb keeps a thread per keep-alive connection
    std::string error;
    server_ = HttpServer::Start(
        options, [this](HttpRequest&) { return Handle(); }, &error);
    REQUIRE_MESSAGE(server_, error);
  }

  void Arm() {
    std::lock_guard lock(mu_);
    armed_at_ = Clock::now();
    armed_ = true;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  bool stalled() {
    std::lock_guard lock(mu_);
    return stalled_;
  }

 private:
  HttpResponse Handle() {
    const auto now = Clock::now();
    Clock::time_point until;
    {
      std::lock_guard lock(mu_);
      if (armed_ && !stalled_ && now >= armed_at_ + stall_after_) {
        stalled_ = true;
        stall_until_ = now + stall_;
      }
      until = stall_until_;
    }
    if (now < until) std::this_thread::sleep_until(until);
    return HttpResponse::Text(200, "ok");
  }

  std::chrono::milliseconds stall_after_, stall_;
  std::mutex mu_;
  bool armed_ = false;
  bool stalled_ = false;
  Clock::time_point armed_at_, stall_until_;
  std::unique_ptr<HttpServer> server_;
};

struct Fixture {
  CustomerPopulation population = CustomerPopulation::Synthetic(1000, 1);
  Workload workload{DefaultMix(), population, 1.1, 1};
  std::atomic<bool> stop{false};
  std::unique_ptr<RunStats> total = std::make_unique<RunStats>();

  void Run(const LoadOptions& options, const IntervalReport& on_interval = nullptr) {
    std::string error;
    std::unique_ptr<LoadDriver> driver = LoadDriver::Create(options, &error);
    REQUIRE_MESSAGE(driver, error);
    driver->Run(workload, stop, on_interval, total.get());
  }
};

LoadOptions Options(const std::string& url, double rate, int64_t duration_ms, int connections) {
  LoadOptions options;
  options.target = url;
  options.rate = rate;
  options.duration_ns = duration_ms * kMs;
  options.connections = connections;
  options.report_interval_ns = 0;
  options.timeout_ns = 5000 * kMs;
  return options;
}

}  // namespace

TEST_CASE("crm_loadgen driver: the open loop's latencies include a server stall") {
  StallingServer server(std::chrono::milliseconds(500), std::chrono::milliseconds(500));
  Fixture f;
  server.Arm();
  f.Run(Options(server.url(), 200, 2000, 16));
  REQUIRE(server.stalled());
  const OperationStats& all = f.total->all;
  CHECK(all.responses() == 400);  // 200/s for 2 s, none dropped by the stall
  CHECK(all.status[2] == 400);
  CHECK(all.failures() == 0);
  CHECK(f.total->unfinished == 0);
  // ~100 requests were scheduled during the stall; they waited up to its whole length, and
  // from the 17th on they also waited for a connection. The 40 slowest of the 400 were all
  // scheduled in its first 300 ms: had latency been measured from the send instead, only the
  // 16 requests caught on the connections would show the stall, and p90 would be fast.
  CHECK(all.latency.Quantile(0.99) >= 400 * kMs);
  CHECK(all.latency.Quantile(0.90) >= 250 * kMs);
  CHECK(all.latency.max() >= 450 * kMs);
  CHECK(all.latency.max() < 900 * kMs);
  CHECK(all.latency.Quantile(0.5) < 50 * kMs);
  CHECK(f.total->late_starts > 0);
  uint64_t per_operation = 0;
  for (const OperationStats& op : f.total->operations) per_operation += op.responses();
  CHECK(per_operation == all.responses());
}

TEST_CASE("crm_loadgen driver: a closed loop hides the same stall in its percentiles") {
  StallingServer server(std::chrono::milliseconds(500), std::chrono::milliseconds(500));
  Fixture f;
  LoadOptions options = Options(server.url(), 0, 2000, 4);
  options.closed_loop = true;
  server.Arm();
  f.Run(options);
  REQUIRE(server.stalled());
  const OperationStats& all = f.total->all;
  CHECK(all.responses() > 1000);
  CHECK(all.failures() == 0);
  // The 4 requests caught in the stall saw it all, but the connections sent nothing meanwhile:
  // the stall is 4 slow samples among thousands.
  CHECK(all.latency.max() >= 450 * kMs);
  CHECK(all.latency.Quantile(0.99) < 100 * kMs);
  CHECK(f.total->elapsed_ns == doctest::Approx(2000 * kMs).epsilon(0.01));
}

TEST_CASE("crm_loadgen driver: the open loop achieves its target rate") {
  StallingServer server(std::chrono::hours(1), std::chrono::milliseconds(0));
  Fixture f;
  LoadOptions options = Options(server.url(), 200, 3000, 16);
  options.report_interval_ns = 1000 * kMs;
  int reports = 0;
  uint64_t reported = 0;
  f.Run(options, [&](const RunStats& interval, int64_t since_start_ns) {
    ++reports;
    reported += interval.completed();
    CHECK(since_start_ns == doctest::Approx(reports * 1000 * kMs).epsilon(0.05));
    CHECK(interval.achieved_rate() == doctest::Approx(200).epsilon(0.1));
  });
  CHECK(f.total->all.responses() == 600);
  CHECK(f.total->achieved_rate() == doctest::Approx(200).epsilon(0.05));
  CHECK(f.total->late_starts < 10);
  CHECK(reports >= 2);
  CHECK(reported <= 600);
  CHECK(f.total->all.latency.Quantile(0.5) < 20 * kMs);
}

TEST_CASE("crm_loadgen driver: a stop request ends the run early with its figures") {
  StallingServer server(std::chrono::hours(1), std::chrono::milliseconds(0));
  Fixture f;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    f.stop.store(true);
  });
  const auto started = Clock::now();
  f.Run(Options(server.url(), 200, 30000, 8));
  stopper.join();
  CHECK(Clock::now() - started < std::chrono::seconds(2));
  CHECK(f.total->all.responses() >= 40);
  CHECK(f.total->all.responses() <= 80);
  CHECK(f.total->elapsed_ns < 1000 * kMs);
}

TEST_CASE("crm_loadgen driver: refused connections are counted as connect errors") {
  // A bound socket that does not listen: connecting to its port is refused, and no other
  // process can take the port meanwhile.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  Fixture f;
  f.Run(Options("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)), 100, 500, 4));
  close(fd);
  CHECK(f.total->all.connect_errors == 50);
  CHECK(f.total->all.responses() == 0);
}
