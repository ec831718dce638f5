// The stub_status source against nginx itself: a real nginx (Debian's nginx-light) on a loopback
// port, driven by a counted number of requests, must show exactly those counts.
#include "agent/sources/stub_status/stub_status_source.h"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using crmscope::Labels;
using crmscope::agent::MetricKind;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RecordingSink : crmscope::agent::SampleSink {
  std::map<std::string, double> values;  // LabelsToString -> value
  std::map<std::string, MetricKind> kinds;
  void Add(const Labels& labels, double value) override {
    values[crmscope::LabelsToString(labels)] = value;
  }
  void AddAt(const Labels& labels, crmscope::TimestampMs, double value) override {
    Add(labels, value);
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view) override {
    kinds[std::string(family)] = kind;
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "stub-status-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

// A loopback port nobody listens on right now (the kernel's pick for a socket we then close).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// A child process, stopped (TERM, then KILL after 5 s) and reaped when it goes out of scope.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    REQUIRE(posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) == 0);
  }
  ~Child() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

long Get(CURL* curl, const std::string& url) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  if (curl_easy_perform(curl) != CURLE_OK) return 0;
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

class Nginx {
 public:
  Nginx() : port_(FreePort()) {
    fs::create_directories(dir_.path / "logs");
    std::ofstream conf(dir_.path / "nginx.conf");
    std::string p = dir_.path.string();
    if (geteuid() == 0) conf << "user root root;\n";
    conf << "worker_processes 1;\npid " << p << "/nginx.pid;\nerror_log " << p
         << "/logs/error.log warn;\nevents { worker_connections 64; }\nhttp {\n"
         << "  access_log off;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      conf << "  " << temp << "_temp_path " << p << "/" << temp << ";\n";
    }
    conf << "  server {\n    listen 127.0.0.1:" << port_ << ";\n"
         << "    location = /hello { return 204; }\n"
         << "    location = /stub_status { stub_status; }\n  }\n}\n";
    conf.close();
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"nginx", "-p", p, "-c", p + "/nginx.conf", "-e",
                                 p + "/logs/error.log", "-g", "daemon off;"});
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Get(curl.get(), url("/hello")) != 204) {
      REQUIRE_MESSAGE(Clock::now() < deadline, "nginx did not answer within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  void Stop() { child_->Stop(); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Child> child_;
};

crmscope::agent::StubStatusConfig ConfigFor(const std::string& url) {
  crmscope::agent::StubStatusConfig config;
  config.url = url;
  config.timeout_ms = 2000;
  return config;
}

}  // namespace

TEST_CASE("stub_status: the page nginx writes, parsed to its seven numbers") {
  crmscope::agent::StubStatus s;
  REQUIRE(
      crmscope::agent::ParseStubStatusPage("Active connections: 291 \n"
                                           "server accepts handled requests\n"
                                           " 16630948 16630947 31070465 \n"
                                           "Reading: 6 Writing: 179 Waiting: 106 \n",
                                           &s));
  CHECK(s.active == 291);
  CHECK(s.accepted == 16630948);
  CHECK(s.handled == 16630947);
  CHECK(s.requests == 31070465);
  CHECK(s.reading == 6);
  CHECK(s.writing == 179);
  CHECK(s.waiting == 106);
  CHECK_FALSE(crmscope::agent::ParseStubStatusPage("<html>404 Not Found</html>", &s));
  CHECK_FALSE(crmscope::agent::ParseStubStatusPage(
      "Active connections: 1\nserver accepts handled requests\n 1 1\n", &s));
}

TEST_CASE("stub_status: config") {
  crmscope::agent::StubStatusConfig config;
  std::string error;
  REQUIRE(crmscope::agent::ParseStubStatusConfig(
      YAML::Load("url: http://127.0.0.1:8080/stub_status\ntimeout: 2s\ninterval: 500ms\n"
                 "job: proxy\nlabels: {zone: b, role: edge}"),
      &config, &error));
  CHECK(config.url == "http://127.0.0.1:8080/stub_status");
  CHECK(config.timeout_ms == 2000);
  CHECK(config.interval_ms == 500);
  CHECK(config.job == "proxy");
  CHECK(config.labels == Labels{{"role", "edge"}, {"zone", "b"}});

  CHECK_FALSE(crmscope::agent::ParseStubStatusConfig(YAML::Load("url: http://127.0.0.1/\nurls: x"),
                                                     &config, &error));
  CHECK(error == "2:1: unknown key \"urls\" in stub_status");
  CHECK_FALSE(crmscope::agent::ParseStubStatusConfig(YAML::Load("timeout: 1s"), &config, &error));
  CHECK(error == "1:1: stub_status needs a url");
  CHECK_FALSE(crmscope::agent::ParseStubStatusConfig(YAML::Load("url: ftp://x/"), &config, &error));
  CHECK(error == "1:6: url \"ftp://x/\" must be http:// or https://");
  CHECK_FALSE(crmscope::agent::ParseStubStatusConfig(YAML::Load("url: http://x/\ninterval: 5 s"),
                                                     &config, &error));
  CHECK(error.starts_with("2:11: interval: "));
  CHECK_FALSE(crmscope::agent::ParseStubStatusConfig(
      YAML::Load("url: http://x/\nlabels: {__name__: y}"), &config, &error));
  CHECK(error == "2:10: invalid label name \"__name__\"");
}

TEST_CASE("stub_status: exact counts from a real nginx after a known number of requests") {
  Nginx nginx;
  auto source = crmscope::agent::MakeStubStatusSource(ConfigFor(nginx.url("/stub_status")));
  std::string labels =
      "{instance=\"127.0.0.1:" + std::to_string(nginx.port()) + "\", job=\"nginx\"}";
  auto value = [&](const RecordingSink& sink, const std::string& family) {
    auto it = sink.values.find(family + labels);
    REQUIRE_MESSAGE(it != sink.values.end(), (family + labels + " missing"));
    return it->second;
  };

  RecordingSink before;
  source->Collect(1000, before);
  REQUIRE(value(before, "nginx_up") == 1);
  CHECK(before.values.size() == 8);

  constexpr int kFreshConnections = 25, kKeptAliveRequests = 10;
  for (int i = 0; i < kFreshConnections; ++i) {
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    REQUIRE(Get(curl.get(), nginx.url("/hello")) == 204);
  }
  {
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    for (int i = 0; i < kKeptAliveRequests; ++i)
      REQUIRE(Get(curl.get(), nginx.url("/hello")) == 204);
  }

  RecordingSink after;
  source->Collect(2000, after);
  REQUIRE(value(after, "nginx_up") == 1);
  // The source keeps its own connection alive, so only the test's connections are new; its
  // second fetch is one more request.
  CHECK(value(after, "nginx_connections_accepted") - value(before, "nginx_connections_accepted") ==
        kFreshConnections + 1);
  CHECK(value(after, "nginx_connections_handled") - value(before, "nginx_connections_handled") ==
        kFreshConnections + 1);
  CHECK(value(after, "nginx_http_requests_total") - value(before, "nginx_http_requests_total") ==
        kFreshConnections + kKeptAliveRequests + 1);
  // The fetch itself is the one request being written while nginx renders the page.
  CHECK(value(after, "nginx_connections_writing") == 1);
  CHECK(value(after, "nginx_connections_reading") == 0);
  CHECK(value(after, "nginx_connections_active") == value(after, "nginx_connections_reading") +
                                                        value(after, "nginx_connections_writing") +
                                                        value(after, "nginx_connections_waiting"));
  CHECK(after.kinds["nginx_connections_accepted"] == MetricKind::kCounter);
  CHECK(after.kinds["nginx_http_requests_total"] == MetricKind::kCounter);
  CHECK(after.kinds["nginx_connections_active"] == MetricKind::kGauge);
  CHECK(after.kinds["nginx_up"] == MetricKind::kGauge);

  nginx.Stop();
  RecordingSink down;
  source->Collect(3000, down);
  CHECK(down.values.size() == 1);
  CHECK(value(down, "nginx_up") == 0);
}

TEST_CASE("stub_status: a page that is not stub_status, and constant labels") {
  Nginx nginx;
  auto config = ConfigFor(nginx.url("/hello"));  // 204, no page
  config.labels = {{"instance", "edge-1"}, {"role", "proxy"}};
  auto source = crmscope::agent::MakeStubStatusSource(config);
  RecordingSink sink;
  source->Collect(1000, sink);
  CHECK(sink.values.size() == 1);
  CHECK(sink.values["nginx_up{instance=\"edge-1\", job=\"nginx\", role=\"proxy\"}"] == 0);
  CHECK(std::string(source->name()) == "stub_status:" + nginx.url("/hello"));
}
