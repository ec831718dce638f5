// The nginx_log source against a real nginx 1.22 on loopback: the demo's log_format as nginx
// writes it (retry lists from a dead upstream, escaped bytes in paths, Server-Timing), while the
// log is rotated the way logrotate does it (rename, then SIGUSR1 so nginx reopens), with every
// request counted exactly once.
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "agent/sources/nginx_log/nginx_log_source.h"
#include "common/labels.h"
#include "crm_demo/launcher/access_log.h"

using namespace crmscope;
using namespace crmscope::agent;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nginx_log_real_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// nginx in the foreground (daemon off), so its master is our child; stopped by its pid.
class NginxProcess {
 public:
  NginxProcess(const std::string& prefix, const std::string& conf) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(kNginx, "nginx", "-p", prefix.c_str(), "-c", conf.c_str(), "-g", "daemon off;",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~NginxProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// The status of GET url, 0 when nginx does not answer.
long Get(CURL* curl, const std::string& url) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

class RecordingSink final : public SampleSink {
 public:
  void Add(const Labels& labels, double value) override { samples[LabelsToString(labels)] = value; }
  void AddAt(const Labels& labels, TimestampMs, double value) override { Add(labels, value); }
  void Describe(std::string_view, MetricKind, std::string_view, std::string_view) override {}
  double Sum(std::string_view prefix) const {
    double total = 0;
    for (const auto& [series, value] : samples) total += series.starts_with(prefix) ? value : 0;
    return total;
  }
  std::map<std::string, double> samples;
};

std::string NginxConfig(const std::string& dir, int front, int backend, int dead) {
  std::string c = "worker_processes 2;\nuser root root;\npid " + dir + "/nginx.pid;\n";
  c += "error_log " + dir + "/error.log warn;\nevents { worker_connections 64; }\nhttp {\n";
  c += "  " + launcher::AccessLogFormatDirective() + "\n";
  c += "  access_log " + dir + "/access.log crmscope;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c += "  " + std::string(temp) + "_temp_path " + dir + "/" + temp + ";\n";
  }
  // max_fails=0: the dead server stays in the rotation, so every other request is retried.
  c += "  upstream nodes { server 127.0.0.1:" + std::to_string(dead) + " max_fails=0; server " +
       "127.0.0.1:" + std::to_string(backend) + " max_fails=0; }\n";
  c += "  server { listen 127.0.0.1:" + std::to_string(backend) + "; access_log off;\n";
  c +=
      "    location / { add_header Server-Timing 'cache;dur=0.5, db;dur=1.5'; return 200 ok; } }\n";
  c += "  server { listen 127.0.0.1:" + std::to_string(front) + ";\n";
  c += "    location / { proxy_pass http://nodes; proxy_next_upstream error timeout; }\n";
  c += "    location = /self { return 204; } }\n}\n";
  return c;
}

}  // namespace

TEST_CASE("real nginx: its lines parse, and rename + SIGUSR1 rotations lose and repeat none") {
  if (!fs::exists(kNginx) || ::geteuid() != 0) {
    MESSAGE("skipped: needs " << kNginx << " and root (for `user root`)");
    return;
  }
  TempDir dir;
  const int front = FreePort(), backend = FreePort(), dead = FreePort();
  const std::string conf = dir.path() + "/nginx.conf";
  std::ofstream(conf) << NginxConfig(dir.path(), front, backend, dead);
  NginxProcess nginx(dir.path(), conf);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  const std::string base = "http://127.0.0.1:" + std::to_string(front);
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Get(curl.get(), base + "/self") != 204 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(Get(curl.get(), base + "/self") == 204);

  NginxLogConfig config;
  config.path = dir.path() + "/access.log";
  config.log_format = launcher::AccessLogFormatDirective();
  std::unique_ptr<NginxLogSource> source = MakeNginxLogSourceFromStart(config);
  REQUIRE(source != nullptr);
  RecordingSink sink;
  const int kRequests = 600;
  int sent = 2;  // the two readiness probes above are in the log too
  for (int i = 0; i < kRequests; ++i) {
    const std::string paths[] = {"/api/customers/" + std::to_string(i), "/self",
                                 "/weird%22quote/" + std::to_string(i), "/caf%C3%A9/7?x=1"};
    long status = Get(curl.get(), base + paths[i % 4]);
    CHECK(status == (i % 4 == 1 ? 204 : 200));
    ++sent;
    if (i % 150 == 149) {  // logrotate: rename, then tell nginx to reopen
      fs::rename(config.path, config.path + "." + std::to_string(i));
      REQUIRE(::kill(nginx.pid(), SIGUSR1) == 0);
    }
    if (i % 10 == 0) source->Collect(i, sink);
  }
  deadline = Clock::now() + std::chrono::seconds(20);
  while (source->lines_parsed() < static_cast<uint64_t>(sent) && Clock::now() < deadline) {
    source->Collect(kRequests, sink);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sink.samples.clear();
  source->Collect(kRequests + 1, sink);
  CHECK(source->lines_parsed() == static_cast<uint64_t>(sent));
  CHECK(source->lines_rejected() == 0);
  CHECK(sink.Sum("crmscope_proxy_requests_total{") == sent);

  const std::string live = "127.0.0.1:" + std::to_string(backend);
  const std::string gone = "127.0.0.1:" + std::to_string(dead);
  const double proxied = kRequests / 4 * 3;
  CHECK(sink.samples["crmscope_proxy_requests_total{method=\"GET\", route=\"/api/customers/{id}\", "
                     "status=\"200\", upstream=\"" +
                     live + "\"}"] == kRequests / 4);
  CHECK(sink.samples["crmscope_proxy_requests_total{method=\"GET\", route=\"/caf\xC3\xA9/{id}\", "
                     "status=\"200\", upstream=\"" +
                     live + "\"}"] == kRequests / 4);
  CHECK(
      sink.samples["crmscope_proxy_requests_total{method=\"GET\", route=\"/weird\\\"quote/{id}\", "
                   "status=\"200\", upstream=\"" +
                   live + "\"}"] == kRequests / 4);
  CHECK(sink.samples["crmscope_proxy_requests_total{method=\"GET\", route=\"/self\", "
                     "status=\"204\"}"] == kRequests / 4 + 2);
  CHECK(sink.samples["crmscope_proxy_upstream_attempts_total{status=\"200\", upstream=\"" + live +
                     "\"}"] == proxied);
  // Round robin over a dead and a live server: about every other request tried the dead one.
  double refused = sink.samples
                       ["crmscope_proxy_upstream_attempts_total{status=\"502\", "
                        "upstream=\"" +
                        gone + "\"}"];
  CHECK(refused >= proxied / 4);
  CHECK(refused <= proxied);
  CHECK(sink.Sum("crmscope_proxy_stage_duration_seconds_count{") == 2 * proxied);
  CHECK(sink.Sum("crmscope_proxy_request_duration_seconds_count{") == sent);
  // The lines really are spread over the rotated files and the current one.
  size_t files_with_lines = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    bool log = entry.path().filename().string().starts_with("access.log");
    files_with_lines += log && entry.file_size() > 0 ? 1 : 0;
  }
  CHECK(files_with_lines == kRequests / 150);  // the last rotation follows the last request
}
