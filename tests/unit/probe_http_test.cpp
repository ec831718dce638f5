// HTTP probes against an in-process CivetWeb on loopback: success, wrong status, body regexps,
// timeout, connection refused, redirects, methods; and the same families, labels and values as
// blackbox_exporter (Debian's) probing the same URL.
#include <civetweb.h>
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
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/sources/probe/http_probe.h"

extern char** environ;

namespace {

using crmscope::Labels;
using crmscope::agent::MetricKind;
using crmscope::agent::ProbeConfig;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Series by family{labels without job and instance}; checks every one has both.
struct RecordingSink : crmscope::agent::SampleSink {
  std::map<std::string, double> values;
  std::map<std::string, MetricKind> kinds;
  std::string job, instance;
  void Add(const Labels& labels, double value) override {
    job = GetLabel(labels, "job");
    instance = GetLabel(labels, "instance");
    Labels without = labels;
    std::erase_if(without, [](const auto& l) { return l.name == "job" || l.name == "instance"; });
    values[crmscope::LabelsToString(without)] = value;
  }
  void AddAt(const Labels& labels, crmscope::TimestampMs, double value) override {
    Add(labels, value);
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view,
                std::string_view) override {
    kinds[std::string(family)] = kind;
  }
  double at(const std::string& family) const {
    auto it = values.find(family.find('{') == std::string::npos ? family + "{}" : family);
    REQUIRE_MESSAGE(it != values.end(), (family + " missing"));
    return it->second;
  }
  double phase(const std::string& phase) const {
    return at("probe_http_duration_seconds{phase=\"" + phase + "\"}");
  }
};

int Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  std::string_view uri = info->local_uri;
  if (uri == "/ok") {
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
              "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\nhello world");
    return 200;
  }
  if (uri == "/slow") {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return 200;
  }
  if (uri == "/redirect") {
    mg_printf(conn, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n");
    return 302;
  }
  if (uri == "/post") {
    char body[16] = {};
    int n = mg_read(conn, body, sizeof body - 1);
    bool ok = std::string_view(info->request_method) == "POST" && n == 4 &&
              std::string_view(body, 4) == "ping";
    mg_printf(conn, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", ok ? 200 : 405);
    return ok ? 200 : 405;
  }
  if (uri == "/chunked") {
    mg_printf(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    mg_send_chunk(conn, "hello ", 6);
    mg_send_chunk(conn, "chunks", 6);
    mg_send_chunk(conn, "", 0);
    return 200;
  }
  mg_printf(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
  return 404;
}

class Server {
 public:
  Server() {
    mg_init_library(0);
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4", nullptr};
    mg_callbacks callbacks{};
    callbacks.begin_request = &Serve;
    ctx_ = mg_start(&callbacks, nullptr, options);
    REQUIRE(ctx_ != nullptr);
    mg_server_port ports[1]{};
    REQUIRE(mg_get_server_ports(ctx_, 1, ports) == 1);
    port_ = ports[0].port;
  }
  ~Server() { mg_stop(ctx_); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

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

RecordingSink RunProbe(const ProbeConfig& config) {
  auto source = crmscope::agent::MakeProbeSource(config);
  RecordingSink sink;
  source->Collect(1000, sink);
  return sink;
}

ProbeConfig Probe(const std::string& url) {
  ProbeConfig config;
  config.name = "health";
  config.url = url;
  config.timeout_ms = 2000;
  return config;
}

}  // namespace

TEST_CASE("probe: a healthy endpoint") {
  Server server;
  ProbeConfig config = Probe(server.url("/ok"));
  config.fail_if_body_not_matches_regexp = {"hel+o"};
  RecordingSink sink = RunProbe(config);
  CHECK(sink.job == "health");
  CHECK(sink.instance == server.url("/ok"));
  CHECK(sink.at("probe_success") == 1);
  CHECK(sink.at("probe_http_status_code") == 200);
  CHECK(sink.at("probe_http_content_length") == 11);
  CHECK(sink.at("probe_http_uncompressed_body_length") == 11);
  CHECK(sink.at("probe_failed_due_to_regex") == 0);
  CHECK(sink.at("probe_http_redirects") == 0);
  CHECK(sink.at("probe_http_ssl") == 0);
  CHECK(sink.at("probe_http_version") == doctest::Approx(1.1));
  CHECK(sink.at("probe_ip_protocol") == 4);
  CHECK(sink.at("probe_ip_addr_hash") == 3668918509.0);  // FNV-1a of 127.0.0.1's four bytes
  CHECK(sink.at("probe_http_last_modified_timestamp_seconds") == 1445412480);
  double duration = sink.at("probe_duration_seconds");
  CHECK(duration > 0);
  CHECK(duration < 2);
  double phases = 0;
  for (const char* p : {"resolve", "connect", "tls", "processing", "transfer"}) {
    CHECK(sink.phase(p) >= 0);
    phases += sink.phase(p);
  }
  CHECK(sink.phase("connect") > 0);
  CHECK(sink.phase("processing") > 0);
  CHECK(sink.phase("tls") == 0);
  CHECK(phases <= duration);
  CHECK(sink.kinds.size() == 14);
  for (const auto& [family, kind] : sink.kinds) CHECK(kind == MetricKind::kGauge);
}

TEST_CASE("probe: wrong status, and valid_status_codes") {
  Server server;
  RecordingSink missing = RunProbe(Probe(server.url("/missing")));
  CHECK(missing.at("probe_success") == 0);
  CHECK(missing.at("probe_http_status_code") == 404);
  CHECK(missing.at("probe_http_content_length") == 4);
  ProbeConfig expect_404 = Probe(server.url("/missing"));
  expect_404.valid_status_codes = {404, 410};
  CHECK(RunProbe(expect_404).at("probe_success") == 1);
  ProbeConfig expect_204 = Probe(server.url("/ok"));
  expect_204.valid_status_codes = {204};
  CHECK(RunProbe(expect_204).at("probe_success") == 0);
}

TEST_CASE("probe: body regexps") {
  Server server;
  ProbeConfig not_matching = Probe(server.url("/ok"));
  not_matching.fail_if_body_not_matches_regexp = {"hello", "goodbye"};
  RecordingSink a = RunProbe(not_matching);
  CHECK(a.at("probe_success") == 0);
  CHECK(a.at("probe_failed_due_to_regex") == 1);
  CHECK(a.at("probe_http_status_code") == 200);

  ProbeConfig matching = Probe(server.url("/ok"));
  matching.fail_if_body_matches_regexp = {"wor.d"};
  RecordingSink b = RunProbe(matching);
  CHECK(b.at("probe_success") == 0);
  CHECK(b.at("probe_failed_due_to_regex") == 1);

  ProbeConfig chunked = Probe(server.url("/chunked"));
  chunked.fail_if_body_not_matches_regexp = {"^hello chunks$"};
  RecordingSink c = RunProbe(chunked);
  CHECK(c.at("probe_success") == 1);
  CHECK(c.at("probe_http_content_length") == -1);  // as Go reports an unknown length
  CHECK(c.at("probe_http_uncompressed_body_length") == 12);

  ProbeConfig limited = Probe(server.url("/ok"));
  limited.body_size_limit = 5;
  RecordingSink d = RunProbe(limited);
  CHECK(d.at("probe_success") == 0);
  CHECK(d.at("probe_http_status_code") == 200);
}

TEST_CASE("probe: timeout and connection refused") {
  Server server;
  ProbeConfig slow = Probe(server.url("/slow"));
  slow.timeout_ms = 300;
  auto start = Clock::now();
  RecordingSink timed_out = RunProbe(slow);
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  CHECK(timed_out.at("probe_success") == 0);
  CHECK(timed_out.at("probe_http_status_code") == 0);
  // libcurl's timer can end a fraction of a millisecond before the 300 ms it enforces (measured
  // 0.2998 s once), so the bound allows 10 ms of clock granularity.
  CHECK(timed_out.at("probe_duration_seconds") >= 0.29);
  CHECK(timed_out.at("probe_duration_seconds") < 1.0);
  CHECK(wall < 1.0);
  CHECK(timed_out.phase("connect") > 0);
  CHECK(timed_out.phase("transfer") == 0);

  // Without a timeout, the interval caps the default 5 s, as Prometheus caps scrape_timeout.
  ProbeConfig by_interval = Probe(server.url("/slow"));
  by_interval.timeout_ms = 0;
  by_interval.interval_ms = 300;
  RecordingSink capped = RunProbe(by_interval);
  CHECK(capped.at("probe_success") == 0);
  CHECK(capped.at("probe_duration_seconds") >= 0.29);  // as above: libcurl's timer granularity
  CHECK(capped.at("probe_duration_seconds") < 1.0);

  RecordingSink refused = RunProbe(Probe("http://127.0.0.1:" + std::to_string(FreePort()) + "/"));
  CHECK(refused.at("probe_success") == 0);
  CHECK(refused.at("probe_http_status_code") == 0);
  CHECK(refused.at("probe_http_content_length") == 0);
  CHECK(refused.phase("connect") == 0);
  CHECK(refused.phase("processing") == 0);
  CHECK(refused.at("probe_duration_seconds") < 1.0);
}

TEST_CASE("probe: redirects and methods") {
  Server server;
  RecordingSink followed = RunProbe(Probe(server.url("/redirect")));
  CHECK(followed.at("probe_success") == 1);
  CHECK(followed.at("probe_http_redirects") == 1);
  CHECK(followed.at("probe_http_status_code") == 200);
  ProbeConfig not_followed = Probe(server.url("/redirect"));
  not_followed.no_follow_redirects = true;
  RecordingSink stopped = RunProbe(not_followed);
  CHECK(stopped.at("probe_success") == 0);
  CHECK(stopped.at("probe_http_status_code") == 302);

  ProbeConfig get = Probe(server.url("/post"));
  CHECK(RunProbe(get).at("probe_http_status_code") == 405);
  ProbeConfig post = Probe(server.url("/post"));
  post.method = "POST";
  post.body = "ping";
  post.headers = {{"Content-Type", "text/plain"}};
  CHECK(RunProbe(post).at("probe_success") == 1);
  ProbeConfig head = Probe(server.url("/ok"));
  head.method = "HEAD";
  RecordingSink h = RunProbe(head);
  CHECK(h.at("probe_success") == 1);
  CHECK(h.at("probe_http_uncompressed_body_length") == 0);
}

TEST_CASE("probe: config") {
  ProbeConfig config;
  std::string error;
  REQUIRE(crmscope::agent::ParseProbeConfig(
      YAML::Load("name: node1-health\nurl: http://127.0.0.1:8081/healthz\nmethod: POST\n"
                 "valid_status_codes: [200, 204]\nfail_if_body_not_matches_regexp: 'ok'\n"
                 "fail_if_body_matches_regexp: [down, maint]\nheaders: {Host: crm}\n"
                 "no_follow_redirects: true\nbody_size_limit: 1KB\ntimeout: 500ms\n"
                 "interval: 2s\nlabels: {node: n1}"),
      &config, &error));
  CHECK(config.name == "node1-health");
  CHECK(config.method == "POST");
  CHECK(config.valid_status_codes == std::vector<int>{200, 204});
  CHECK(config.fail_if_body_not_matches_regexp == std::vector<std::string>{"ok"});
  CHECK(config.fail_if_body_matches_regexp == std::vector<std::string>{"down", "maint"});
  CHECK(config.headers == std::vector<std::pair<std::string, std::string>>{{"Host", "crm"}});
  CHECK(config.no_follow_redirects);
  CHECK(config.body_size_limit == 1024);
  CHECK(config.timeout_ms == 500);
  CHECK(config.interval_ms == 2000);
  CHECK(config.labels == Labels{{"node", "n1"}});

  CHECK_FALSE(crmscope::agent::ParseProbeConfig(
      YAML::Load("url: http://x/\nfail_if_body_matches_regexp: ['(']"), &config, &error));
  CHECK(error.starts_with("2:31: fail_if_body_matches_regexp: invalid regexp: "));
  CHECK_FALSE(crmscope::agent::ParseProbeConfig(
      YAML::Load("url: http://x/\nvalid_status_codes: [2xx]"), &config, &error));
  CHECK(error == "2:22: \"2xx\" is not an HTTP status code");
  CHECK_FALSE(crmscope::agent::ParseProbeConfig(YAML::Load("url: http://x/\nmodule: http_2xx"),
                                                &config, &error));
  CHECK(error == "2:1: unknown key \"module\" in probe");
  CHECK_FALSE(crmscope::agent::ParseProbeConfig(YAML::Load("name: x"), &config, &error));
  CHECK(error == "1:1: a probe needs a url");
}

TEST_CASE("probe: the same families, labels and values as blackbox_exporter") {
  Server server;
  fs::path dir = fs::temp_directory_path() / ("probe-bb-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "bb.yml") << "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
                                   "    http:\n      fail_if_body_not_matches_regexp: [hello]\n";
  int port = FreePort();
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  std::string config_flag = "--config.file=" + (dir / "bb.yml").string();
  std::vector<char*> args = {const_cast<char*>("prometheus-blackbox-exporter"), config_flag.data(),
                             listen.data(), nullptr};
  pid_t pid = -1;
  REQUIRE(posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
  std::string exposition;
  auto fetch = [&](const std::string& url) {
    exposition.clear();
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(
        curl.get(), CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* out) {
          static_cast<std::string*>(out)->append(d, s * n);
          return s * n;
        });
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &exposition);
    return curl_easy_perform(curl.get()) == CURLE_OK;
  };
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  bool ready = false;
  while (!(ready = fetch(base + "/metrics")) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool probed = ready && fetch(base + "/probe?module=http_2xx&target=" + server.url("/ok"));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
  REQUIRE(probed);

  std::map<std::string, double> theirs;
  std::map<std::string, std::string> their_types;
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    std::string line = exposition.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("# TYPE ")) {
      size_t space = line.find(' ', 7);
      their_types[line.substr(7, space - 7)] = line.substr(space + 1);
    } else if (!line.empty() && line[0] != '#') {
      size_t space = line.rfind(' ');
      std::string series = line.substr(0, space);
      if (series.find('{') == std::string::npos) series += "{}";
      theirs[series] = std::stod(line.substr(space + 1));
    }
  }
  ProbeConfig config = Probe(server.url("/ok"));
  config.fail_if_body_not_matches_regexp = {"hello"};
  RecordingSink ours = RunProbe(config);

  std::set<std::string> our_series, their_series;
  for (const auto& [key, value] : ours.values) our_series.insert(key);
  for (const auto& [key, value] : theirs) their_series.insert(key);
  CHECK(our_series == their_series);
  for (const auto& [family, type] : their_types) CHECK_MESSAGE(type == "gauge", family);
  for (const char* exact :
       {"probe_success{}", "probe_http_status_code{}", "probe_http_content_length{}",
        "probe_http_uncompressed_body_length{}", "probe_http_redirects{}", "probe_http_ssl{}",
        "probe_http_version{}", "probe_failed_due_to_regex{}", "probe_ip_protocol{}",
        "probe_ip_addr_hash{}", "probe_http_last_modified_timestamp_seconds{}",
        "probe_http_duration_seconds{phase=\"tls\"}"}) {
    CHECK_MESSAGE(ours.values[exact] == doctest::Approx(theirs[exact]), exact);
  }
}
