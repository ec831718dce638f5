// HTTP server metrics, process metrics and the /metrics endpoint: values read back from the
// registry after known requests, and the hot path checked to allocate nothing.
#include <arpa/inet.h>
#include <civetweb.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "exporters/instrumentation/http_server_metrics.h"
#include "exporters/instrumentation/process_collector.h"
#include "exporters/instrumentation/route_table.h"
#include "exporters/instrumentation/text_exposition.h"

// Counts this thread's allocations while armed, to prove the per-request path allocates nothing.
namespace {
thread_local bool count_allocations = false;
thread_local size_t allocations = 0;
}  // namespace

// g++ sees the replaced operator new's malloc and warns on the matching free, wrongly: both
// replacements below pair with it.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  if (count_allocations) ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

using namespace crmscope::instrumentation;

namespace {

RouteTable Routes() {
  return RouteTable({{HttpMethod::kGet, "/api/customers/{id}"},
                     {HttpMethod::kPost, "/api/orders"},
                     {HttpMethod::kGet, "/metrics"}});
}

const prometheus::ClientMetric* FindMetric(const std::vector<prometheus::MetricFamily>& families,
                                           const std::string& name,
                                           const prometheus::Labels& labels) {
  for (const auto& family : families) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      prometheus::Labels got;
      for (const auto& pair : metric.label) got[pair.name] = pair.value;
      if (got == labels) return &metric;
    }
  }
  return nullptr;
}

double GaugeValue(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  const prometheus::ClientMetric* m = FindMetric(families, name, {});
  REQUIRE(m != nullptr);
  return m->gauge.value;
}

}  // namespace

TEST_CASE("requests are counted by route template, method and code, and timed") {
  prometheus::Registry registry;
  RouteTable routes = Routes();
  HttpServerMetrics metrics(registry, routes);
  size_t customer = routes.FindTemplate("/api/customers/{id}");
  for (int i = 0; i < 3; ++i) {
    metrics.RequestStarted();
    metrics.RequestFinished(customer, HttpMethod::kGet, 200, 0.003);
  }
  metrics.RequestStarted();
  metrics.RequestFinished(customer, HttpMethod::kGet, 404, 0.5);
  metrics.RequestStarted();
  metrics.RequestFinished(routes.other_template(), HttpMethod::kGet, 418, 0.02);

  auto families = registry.Collect();
  const auto* ok =
      FindMetric(families, "http_requests_total",
                 {{"route", "/api/customers/{id}"}, {"method", "GET"}, {"code", "200"}});
  const auto* missing =
      FindMetric(families, "http_requests_total",
                 {{"route", "/api/customers/{id}"}, {"method", "GET"}, {"code", "404"}});
  const auto* teapot = FindMetric(families, "http_requests_total",
                                  {{"route", "other"}, {"method", "GET"}, {"code", "418"}});
  REQUIRE(ok != nullptr);
  REQUIRE(missing != nullptr);
  REQUIRE(teapot != nullptr);
  CHECK(ok->counter.value == 3);
  CHECK(missing->counter.value == 1);
  CHECK(teapot->counter.value == 1);

  const auto* h = FindMetric(families, "http_request_duration_seconds",
                             {{"route", "/api/customers/{id}"}, {"method", "GET"}});
  REQUIRE(h != nullptr);
  CHECK(h->histogram.sample_count == 4);
  CHECK(h->histogram.sample_sum == doctest::Approx(0.509));
  REQUIRE(h->histogram.bucket.size() == HttpServerMetrics::DefaultDurationBuckets().size() + 1);
  for (const auto& bucket : h->histogram.bucket) {
    CAPTURE(bucket.upper_bound);
    if (bucket.upper_bound < 0.0025) CHECK(bucket.cumulative_count == 0);
    if (bucket.upper_bound >= 0.005 && bucket.upper_bound < 0.5)
      CHECK(bucket.cumulative_count == 3);
    if (bucket.upper_bound >= 0.5) CHECK(bucket.cumulative_count == 4);
  }
  CHECK(GaugeValue(families, "http_requests_in_flight") == 0);
}

TEST_CASE("declared routes have zero-count histograms before any request") {
  prometheus::Registry registry;
  RouteTable routes = Routes();
  HttpServerMetrics metrics(registry, routes);
  auto families = registry.Collect();
  const auto* h = FindMetric(families, "http_request_duration_seconds",
                             {{"route", "/api/orders"}, {"method", "POST"}});
  REQUIRE(h != nullptr);
  CHECK(h->histogram.sample_count == 0);
  // No counter exists for a code that was never answered.
  CHECK(FindMetric(families, "http_requests_total",
                   {{"route", "/api/orders"}, {"method", "POST"}, {"code", "201"}}) == nullptr);
}

TEST_CASE("in-flight and worker gauges follow the server's calls") {
  prometheus::Registry registry;
  RouteTable routes = Routes();
  HttpServerMetrics metrics(registry, routes);
  metrics.RequestStarted();
  metrics.RequestStarted();
  for (int i = 0; i < 4; ++i) metrics.WorkerThreadStarted();
  metrics.WorkerBusy();
  metrics.WorkerBusy();
  metrics.WorkerIdle();
  auto families = registry.Collect();
  CHECK(GaugeValue(families, "http_requests_in_flight") == 2);
  CHECK(GaugeValue(families, "http_server_worker_threads") == 4);
  CHECK(GaugeValue(families, "http_server_worker_threads_busy") == 1);
}

TEST_CASE("after the first request of a kind, recording one allocates nothing") {
  prometheus::Registry registry;
  RouteTable routes = Routes();
  HttpServerMetrics metrics(registry, routes);
  size_t orders = routes.FindTemplate("/api/orders");
  metrics.RequestStarted();
  metrics.RequestFinished(orders, HttpMethod::kPost, 201, 0.01);  // resolves the counter slot
  allocations = 0;
  count_allocations = true;
  for (int i = 0; i < 1000; ++i) {
    metrics.RequestStarted();
    metrics.RequestFinished(orders, HttpMethod::kPost, 201, 0.01);
  }
  RouteMatch m = routes.Match("GET", "/api/customers/42");
  count_allocations = false;
  CHECK(allocations == 0);
  CHECK(m.params[0] == "42");
  // The counting itself works: the first request of a new code builds its labels.
  count_allocations = true;
  metrics.RequestStarted();
  metrics.RequestFinished(orders, HttpMethod::kPost, 400, 0.01);
  count_allocations = false;
  CHECK(allocations > 0);
  // Keep the families alive: FindMetric points into them.
  const auto families = registry.Collect();
  const auto* c = FindMetric(families, "http_requests_total",
                             {{"route", "/api/orders"}, {"method", "POST"}, {"code", "201"}});
  REQUIRE(c != nullptr);
  CHECK(c->counter.value == 1001);
}

TEST_CASE("concurrent requests are all counted") {
  prometheus::Registry registry;
  RouteTable routes = Routes();
  HttpServerMetrics metrics(registry, routes);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        metrics.RequestStarted();
        metrics.RequestFinished(0, HttpMethod::kGet, i % 2 ? 200 : 404, 0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto families = registry.Collect();
  const auto* ok =
      FindMetric(families, "http_requests_total",
                 {{"route", "/api/customers/{id}"}, {"method", "GET"}, {"code", "200"}});
  const auto* h = FindMetric(families, "http_request_duration_seconds",
                             {{"route", "/api/customers/{id}"}, {"method", "GET"}});
  REQUIRE(ok != nullptr);
  REQUIRE(h != nullptr);
  CHECK(ok->counter.value == 4000);
  CHECK(h->histogram.sample_count == 8000);
  CHECK(GaugeValue(families, "http_requests_in_flight") == 0);
}

TEST_CASE("process metrics describe this process") {
  ProcessCollector collector;
  auto before = collector.Collect();
  double fds_before = GaugeValue(before, "process_open_fds");
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto with_fd = collector.Collect();
  close(fd);
  CHECK(GaugeValue(with_fd, "process_open_fds") == fds_before + 1);

  CHECK(GaugeValue(before, "process_resident_memory_bytes") > 1e6);
  CHECK(GaugeValue(before, "process_virtual_memory_bytes") >=
        GaugeValue(before, "process_resident_memory_bytes"));
  CHECK(GaugeValue(before, "process_threads") >= 1);
  CHECK(GaugeValue(before, "process_max_fds") >= 64);
  double now = static_cast<double>(std::time(nullptr));
  double start = GaugeValue(before, "process_start_time_seconds");
  CHECK(start <= now + 1);
  CHECK(start > now - 3600);

  std::thread extra([] { std::this_thread::sleep_for(std::chrono::milliseconds(200)); });
  CHECK(GaugeValue(collector.Collect(), "process_threads") >= 2);
  extra.join();

  // CPU time advances by the CPU burned (ticks are 10 ms, so burn well past one).
  const auto* cpu0 = FindMetric(before, "process_cpu_seconds_total", {});
  REQUIRE(cpu0 != nullptr);
  double cpu_before = cpu0->counter.value;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  volatile double sink = 0;
  double cpu_after = cpu_before;
  while (cpu_after < cpu_before + 0.1 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 1000000; ++i) sink = sink + i * 0.5;
    cpu_after = FindMetric(collector.Collect(), "process_cpu_seconds_total", {})->counter.value;
  }
  CHECK(cpu_after >= cpu_before + 0.1);
}

TEST_CASE("the endpoint serializes every live collectable in the text format") {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("demo_total")
      .Help("x")
      .Register(*registry)
      .Add({{"a", "b"}})
      .Increment(7);
  auto process = std::make_shared<ProcessCollector>();
  auto doomed = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("gone_total").Help("x").Register(*doomed).Add({});
  MetricsEndpoint endpoint;
  endpoint.Register(registry);
  endpoint.Register(process);
  endpoint.Register(doomed);
  CHECK(endpoint.Serialize().find("gone_total") != std::string::npos);
  doomed.reset();
  std::string text = endpoint.Serialize();
  CHECK(text.find("gone_total") == std::string::npos);
  CHECK(text.find("# TYPE demo_total counter\n") != std::string::npos);
  CHECK(text.find("demo_total{a=\"b\"} 7\n") != std::string::npos);
  CHECK(text.find("# TYPE process_open_fds gauge\n") != std::string::npos);
}

namespace {

int ServeMetrics(mg_connection* conn) {
  auto* endpoint = static_cast<MetricsEndpoint*>(mg_get_request_info(conn)->user_data);
  return endpoint->Serve(conn);
}

// One HTTP/1.0 exchange on loopback; returns everything the server sent.
std::string RawGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
    response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

}  // namespace

TEST_CASE("the endpoint answers a CivetWeb request with the exposition") {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("served_total")
      .Help("x")
      .Register(*registry)
      .Add({})
      .Increment(2);
  MetricsEndpoint endpoint;
  endpoint.Register(registry);

  mg_init_library(0);
  const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2", nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = &ServeMetrics;
  mg_context* ctx = mg_start(&callbacks, &endpoint, options);
  REQUIRE(ctx != nullptr);
  mg_server_port ports[1]{};
  REQUIRE(mg_get_server_ports(ctx, 1, ports) == 1);
  std::string response = RawGet(ports[0].port, "/metrics");
  mg_stop(ctx);

  CHECK(response.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  CHECK(response.find(
            "\r\n\r\n# HELP served_total x\n# TYPE served_total counter\nserved_total 2\n") !=
        std::string::npos);
}
