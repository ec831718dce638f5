// The launcher's parts that need no running stack: --fault and --lb parsing, the generated
// nginx.conf (checked by nginx -t itself), the access log and /metrics readers, quantiles, and
// process groups. The stack as a whole is tested by tests/integration/crm_stack_*_test.sh.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "crm_demo/launcher/access_log.h"
#include "crm_demo/launcher/child_process.h"
#include "crm_demo/launcher/fault_plan.h"
#include "crm_demo/launcher/live_table.h"
#include "crm_demo/launcher/nginx_config.h"
#include "crm_demo/launcher/node_traffic.h"
#include "crm_demo/launcher/run_directory.h"

using namespace crmscope::launcher;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/crm_stack_launcher_test.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

PlannedFault MustParse(const std::string& flag) {
  PlannedFault fault;
  std::string error;
  INFO(flag);
  REQUIRE(ParseFaultFlag(flag, &fault, &error));
  CHECK(error.empty());
  return fault;
}

std::string FaultError(const std::string& flag) {
  PlannedFault fault;
  std::string error;
  CHECK_FALSE(ParseFaultFlag(flag, &fault, &error));
  return error;
}

}  // namespace

TEST_CASE("crm_stack launcher: fault flag: node, type, default params, start and duration") {
  PlannedFault f = MustParse("node2:drop_index@60s+90s");
  CHECK(f.node == "node2");
  CHECK(f.type == "drop_index");
  CHECK(f.params == nlohmann::json{{"index", "idx_orders_customer_id"}});
  CHECK(f.start_ms == 60000);
  CHECK(f.duration_ms == 90000);

  PlannedFault whole_run = MustParse("all:cache_off");
  CHECK(whole_run.node == "all");
  CHECK(whole_run.start_ms == 0);
  CHECK(whole_run.duration_ms == 0);  // until the run ends
  CHECK(whole_run.params == nlohmann::json::object());

  CHECK(MustParse("node1:errors+20s").duration_ms == 20000);
  CHECK(MustParse("node1:errors").params["rate"] == 0.2);
}

TEST_CASE(
    "crm_stack launcher: fault flag: parameters override defaults, numbers stay numbers, braces "
    "nest") {
  PlannedFault f = MustParse("node3:latency{ms=80,jitter_ms=5,route=/api/customers/{id}}@1m+30s");
  CHECK(f.params["ms"] == 80);
  CHECK(f.params["jitter_ms"] == 5);
  CHECK(f.params["route"] == "/api/customers/{id}");
  CHECK(f.start_ms == 60000);
  CHECK(f.duration_ms == 30000);

  nlohmann::json body = nlohmann::json::parse(FaultRequestBody(f, 30000));
  CHECK(body["type"] == "latency");
  CHECK(body["duration_s"] == 30.0);
  CHECK(body["params"]["ms"] == 80);

  CHECK(MustParse("node1:drop_index{index=idx_customers_name}").params["index"] ==
        "idx_customers_name");
}

TEST_CASE("crm_stack launcher: fault flag: malformed flags are rejected with the reason") {
  CHECK(FaultError("drop_index@60s").find("NODE:TYPE") != std::string::npos);
  CHECK(FaultError("node1:dropindex").find("unknown fault type 'dropindex'") != std::string::npos);
  CHECK(FaultError("node1:latency{ms=5").find("unclosed") != std::string::npos);
  CHECK(FaultError("node1:latency{ms}").find("KEY=VALUE") != std::string::npos);
  CHECK(FaultError("node1:latency60s").find("unknown fault type") != std::string::npos);
  CHECK(FaultError("node1:latency{ms=5}60s").find("@START") != std::string::npos);
  CHECK_FALSE(FaultError("node1:latency@soon").empty());
  CHECK(FaultError("node1:latency+0s").find("above 0") != std::string::npos);
}

TEST_CASE("crm_stack launcher: load balancing: every method, and weights must match the nodes") {
  LoadBalancing lb;
  std::string error;
  for (const char* name : {"round_robin", "random", "least_conn", "ip_hash", "weighted:3,2,1"}) {
    INFO(name);
    REQUIRE(ParseLoadBalancing(name, 3, &lb, &error));
    CHECK(LoadBalancingName(lb) == name);
  }
  CHECK(lb.weights == std::vector<int>{3, 2, 1});
  CHECK_FALSE(ParseLoadBalancing("weighted:3,1", 3, &lb, &error));
  CHECK(error.find("2 weights for 3 nodes") != std::string::npos);
  CHECK_FALSE(ParseLoadBalancing("weighted:3,0,1", 3, &lb, &error));
  CHECK_FALSE(ParseLoadBalancing("weighted:3,x,1", 3, &lb, &error));
  CHECK_FALSE(ParseLoadBalancing("hash", 3, &lb, &error));
}

TEST_CASE(
    "crm_stack launcher: nginx config: the method precedes keepalive, weights, local-only "
    "stub_status") {
  NginxSite site;
  site.prefix = "/tmp/p";
  site.listen_port = 18080;
  site.node_ports = {4001, 4002};
  site.access_log = "/tmp/p/logs/access.log";
  site.error_log = "/tmp/p/logs/error.log";
  std::string error;
  REQUIRE(ParseLoadBalancing("weighted:3,1", 2, &site.lb, &error));
  std::string conf = RenderNginxConfig(site);
  CHECK(conf.find("server 127.0.0.1:4001 weight=3;") != std::string::npos);
  CHECK(conf.find("server 127.0.0.1:4002 weight=1;") != std::string::npos);
  CHECK(conf.find("listen 127.0.0.1:18080;") != std::string::npos);
  CHECK(conf.find("proxy_http_version 1.1;") != std::string::npos);
  CHECK(conf.find("proxy_set_header Connection \"\";") != std::string::npos);
  CHECK(conf.find("stub_status;\n      allow 127.0.0.1;\n      deny all;") != std::string::npos);
  CHECK(conf.find("pid /tmp/p/nginx.pid;") != std::string::npos);
  CHECK(conf.find("access_log /tmp/p/logs/access.log crmscope;") != std::string::npos);

  REQUIRE(ParseLoadBalancing("least_conn", 2, &site.lb, &error));
  conf = RenderNginxConfig(site);
  REQUIRE(conf.find("least_conn;") != std::string::npos);
  CHECK(conf.find("least_conn;") < conf.find("keepalive 32;"));
  CHECK(conf.find("weight=") == std::string::npos);
}

TEST_CASE(
    "crm_stack launcher: nginx config: nginx -t accepts the config for every balancing method") {
  if (std::system("command -v nginx >/dev/null 2>&1") != 0) {
    FAIL("nginx is not installed (scripts/setup.sh installs nginx-light)");
  }
  for (const char* method : {"round_robin", "weighted:3,2,1", "random", "least_conn", "ip_hash"}) {
    INFO(method);
    TempDir dir;
    fs::create_directories(dir.path / "logs");
    fs::create_directories(dir.path / "temp");
    NginxSite site;
    site.prefix = dir.path.string();
    site.listen_port = 1;  // never bound: -t only parses
    site.node_ports = {4001, 4002, 4003};
    site.access_log = (dir.path / "logs/access.log").string();
    site.error_log = (dir.path / "logs/error.log").string();
    if (::geteuid() == 0) site.run_as_user = site.run_as_group = "root";
    std::string error;
    REQUIRE(ParseLoadBalancing(method, 3, &site.lb, &error));
    std::ofstream(dir.path / "nginx.conf") << RenderNginxConfig(site);
    std::string command = "nginx -t -q -p " + dir.path.string() + " -c " +
                          (dir.path / "nginx.conf").string() + " -e " + site.error_log + " > " +
                          (dir.path / "t.out").string() + " 2>&1";
    int status = std::system(command.c_str());
    std::ifstream out(dir.path / "t.out");
    std::string output((std::istreambuf_iterator<char>(out)), {});
    INFO(output);
    CHECK(status == 0);
  }
}

TEST_CASE("crm_stack launcher: access log: the directive lists the twelve fields TAB-separated") {
  std::string directive = AccessLogFormatDirective();
  CHECK(directive.rfind("log_format crmscope '$msec\\t$request_method\\t$uri\\t$status\\t", 0) ==
        0);
  CHECK(directive.find("$body_bytes_sent\\t$upstream_http_server_timing';") != std::string::npos);
  nlohmann::json format = nlohmann::json::parse(AccessLogFormatJson());
  CHECK(format["fields"].size() == 12);
  CHECK(format["fields"][5] == "upstream_addr");
  CHECK(format["delimiter"] == "\t");
}

TEST_CASE(
    "crm_stack launcher: access log: lines parse, retries keep both upstreams, short lines are "
    "rejected") {
  AccessLogRecord r;
  std::string line =
      "1795775855.718\tGET\t/api/customers/1\t502\t0.013\t127.0.0.1:4001, 127.0.0.1:4002\t"
      "502, 200\t0.000, 0.001\t0.010, 0.002\t0.010, 0.002\t161\tcache;dur=0.010, db;dur=0.982";
  REQUIRE(ParseAccessLogLine(line, &r));
  CHECK(r.msec == doctest::Approx(1795775855.718));
  CHECK(r.method == "GET");
  CHECK(r.uri == "/api/customers/1");
  CHECK(r.status == 502);
  CHECK(r.request_time == doctest::Approx(0.013));
  CHECK(r.upstream_addr == "127.0.0.1:4001, 127.0.0.1:4002");

  CHECK_FALSE(ParseAccessLogLine("1795775855.718\tGET\t/\t200\t0.001\t-\t-\t-\t-\t-\t0", &r));
  CHECK_FALSE(ParseAccessLogLine(line + "\textra", &r));
  CHECK_FALSE(ParseAccessLogLine("x\tGET\t/\t200\t0.001\t-\t-\t-\t-\t-\t0\t-", &r));
}

TEST_CASE(
    "crm_stack launcher: access log follower: only whole new lines, once each; truncation starts "
    "over") {
  TempDir dir;
  std::string path = (dir.path / "access.log").string();
  std::ofstream(path) << "old line\n";
  AccessLogFollower follower(path);
  follower.SkipToEnd();
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) { lines.emplace_back(line); };
  {
    std::ofstream out(path, std::ios::app);
    out << "first\nsecond half";
  }
  follower.Poll(collect);
  CHECK(lines == std::vector<std::string>{"first"});
  std::ofstream(path, std::ios::app) << "written\n";
  follower.Poll(collect);
  CHECK(lines == std::vector<std::string>{"first", "second halfwritten"});
  follower.Poll(collect);
  CHECK(lines.size() == 2);
  std::ofstream(path, std::ios::trunc) << "rotated\n";
  follower.Poll(collect);
  CHECK(lines.back() == "rotated");
}

TEST_CASE(
    "crm_stack launcher: node traffic: API series summed, launcher routes left out, 5xx counted") {
  const char* exposition =
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\",method=\"GET\",route=\"/api/customers/{id}\"} 90\n"
      "http_requests_total{code=\"500\",method=\"GET\",route=\"/api/customers/{id}\"} 6\n"
      "http_requests_total{code=\"503\",method=\"POST\",route=\"/api/orders\"} 4\n"
      "http_requests_total{code=\"200\",method=\"GET\",route=\"/metrics\"} 1000\n"
      "http_requests_total{code=\"503\",method=\"GET\",route=\"/healthz\"} 7\n"
      "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/customers/"
      "{id}\",le=\"0.1\"} 50\n"
      "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/customers/"
      "{id}\",le=\"+Inf\"} 96\n"
      "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/orders\",le=\"0.1\"} 4\n"
      "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/orders\",le=\"+Inf\"} 4\n"
      "http_request_duration_seconds_bucket{method=\"GET\",route=\"/metrics\",le=\"+Inf\"} 1000\n"
      "http_requests_in_flight 1\n";
  NodeTraffic t = ParseNodeTraffic(exposition);
  CHECK(t.requests == 100);
  CHECK(t.server_errors == 10);
  REQUIRE(t.buckets.size() == 2);
  CHECK(t.buckets[0.1] == 54);
  CHECK(t.buckets[INFINITY] == 100);

  NodeTraffic later = t;
  later.requests = 150;
  later.server_errors = 10;
  later.buckets[0.1] = 104;
  later.buckets[INFINITY] = 150;
  NodeTraffic delta = TrafficDelta(later, t);
  CHECK(delta.requests == 50);
  CHECK(delta.server_errors == 0);
  CHECK(delta.buckets[0.1] == 50);

  NodeTraffic restarted;  // counters went back to zero: the new values are the delta
  restarted.requests = 3;
  restarted.buckets = {{0.1, 3}, {INFINITY, 3}};
  CHECK(TrafficDelta(restarted, t).requests == 3);
  CHECK(TrafficDelta(restarted, t).buckets[INFINITY] == 3);
}

TEST_CASE(
    "crm_stack launcher: histogram quantile: linear inside the bucket, +Inf answers the last "
    "finite bound") {
  std::map<double, double> buckets = {{0.1, 10}, {0.2, 20}, {INFINITY, 20}};
  CHECK(HistogramQuantile(0.5, buckets) == doctest::Approx(0.1));
  CHECK(HistogramQuantile(0.75, buckets) == doctest::Approx(0.15));
  CHECK(HistogramQuantile(0.25, buckets) == doctest::Approx(0.05));
  CHECK(HistogramQuantile(0.9, {{0.1, 5}, {INFINITY, 10}}) == doctest::Approx(0.1));
  CHECK(std::isnan(HistogramQuantile(0.5, {{0.1, 0}, {INFINITY, 0}})));
  CHECK(std::isnan(HistogramQuantile(0.5, {})));
}

TEST_CASE("crm_stack launcher: live table: NaN prints as a dash") {
  std::string table = FormatLiveTable(
      "t=5s", {{"proxy", 12.5, 0, 1.5, 2.5, 3.5, 100}, {"node1", 0, NAN, NAN, NAN, NAN, 50}});
  CHECK(table.find("proxy") != std::string::npos);
  CHECK(table.find("12.5") != std::string::npos);
  std::string node_row = table.substr(table.find("node1"));
  node_row = node_row.substr(0, node_row.find('\n'));
  CHECK(std::count(node_row.begin(), node_row.end(), '-') == 4);  // err%, p50, p95, p99
  CHECK(node_row.find(" 0.0 ") != std::string::npos);
  CHECK(node_row.find("50.0") != std::string::npos);
}

TEST_CASE(
    "crm_stack launcher: child process: a whole group stops, exec failures and exit codes are "
    "reported") {
  TempDir dir;
  std::string log = (dir.path / "child.log").string();
  std::string error;
  // The shell forks a second sleep that stays in the group after its leader is gone.
  auto group =
      ChildProcess::Spawn("group", {"sh", "-c", "sleep 30 & echo started; wait"}, log, &error);
  REQUIRE(group);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::ifstream(log).peek() == EOF && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(::getpgid(group->pid()) == group->pid());
  CHECK(StopChildren({group.get()}, SIGTERM, std::chrono::seconds(5)).empty());
  CHECK_FALSE(group->running());
  CHECK_FALSE(ProcessGroupAlive(group->pid()));

  CHECK_FALSE(ChildProcess::Spawn("missing", {"/nonexistent/binary"}, log, &error));
  CHECK(error.find("cannot run /nonexistent/binary") != std::string::npos);

  auto failing = ChildProcess::Spawn("failing", {"sh", "-c", "exit 3"}, log, &error);
  REQUIRE(failing);
  while (!failing->Reap()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(failing->DescribeExit() == "exited with status 3");
  CHECK_FALSE(failing->ExitedCleanly());
}

TEST_CASE(
    "crm_stack launcher: child process: a child that ignores SIGTERM is killed after the grace "
    "period") {
  TempDir dir;
  std::string error;
  auto stubborn =
      ChildProcess::Spawn("stubborn", {"sh", "-c", "trap '' TERM; echo ready; sleep 30"},
                          (dir.path / "c.log").string(), &error);
  REQUIRE(stubborn);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::ifstream(dir.path / "c.log").peek() == EOF &&
         std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto killed = StopChildren({stubborn.get()}, SIGTERM, std::chrono::milliseconds(300));
  CHECK(killed == std::vector<std::string>{"stubborn"});
  CHECK(stubborn->DescribeExit() == "was killed by SIGKILL");
  CHECK_FALSE(ProcessGroupAlive(stubborn->pid()));
}

TEST_CASE("crm_stack launcher: run directory: atomic writes keep a secret's mode from the start") {
  TempDir dir;
  std::string path = (dir.path / "admin_token").string();
  std::string error;
  REQUIRE(WriteFileAtomically(path, "secret\n", &error, 0600));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  CHECK(content == "secret");
}
