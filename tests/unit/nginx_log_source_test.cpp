// The nginx_log source as the agent core uses it: its YAML config, collections over a growing and
// rotated log with the parsed/rejected counters, and the parse-nginx-log one-shot command.
#include "agent/sources/nginx_log/nginx_log_source.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent/sources/nginx_log/parse_nginx_log_command.h"
#include "common/labels.h"
#include "crm_demo/launcher/access_log.h"

using namespace crmscope;
using namespace crmscope::agent;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nginx_log_source_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

void Append(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RecordingSink final : public SampleSink {
 public:
  void Add(const Labels& labels, double value) override { samples[LabelsToString(labels)] = value; }
  void AddAt(const Labels& labels, TimestampMs, double value) override { Add(labels, value); }
  void Describe(std::string_view, MetricKind, std::string_view, std::string_view) override {}
  double Requests(const std::string& labels) const {
    auto it = samples.find("crmscope_proxy_requests_total{" + labels + "}");
    return it == samples.end() ? -1 : it->second;
  }
  std::map<std::string, double> samples;
};

std::string DemoLine(std::string_view uri, std::string_view status, std::string_view upstream) {
  return "1.000\tGET\t" + std::string(uri) + "\t" + std::string(status) + "\t0.010\t" +
         std::string(upstream) + "\t" + std::string(status) + "\t0.000\t0.009\t0.010\t100\t-\n";
}

bool ParseYaml(const std::string& yaml, NginxLogConfig* config, std::string* error) {
  return ParseNginxLogConfig(YAML::Load(yaml), config, error);
}

std::string ConfigError(const std::string& yaml) {
  NginxLogConfig config;
  std::string error;
  CHECK_FALSE(ParseYaml(yaml, &config, &error));
  return error;
}

struct CommandResult {
  int status;
  std::string out, err;
};

// Runs RunParseNginxLog with its stdout and stderr sent to files.
CommandResult RunCommand(const TempDir& dir, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const std::string out_path = dir.File("stdout"), err_path = dir.File("stderr");
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = ::dup(1), saved_err = ::dup(2);
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  int status = RunParseNginxLog(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  for (int fd : {out_fd, err_fd, saved_out, saved_err}) ::close(fd);
  return {status, ReadAll(out_path), ReadAll(err_path)};
}

}  // namespace

TEST_CASE("config: every key, both route rule forms") {
  NginxLogConfig config;
  std::string error;
  bool ok = ParseYaml(R"(
path: /var/log/nginx/access.log
log_format: '$msec\t$status\t$uri'
route_rules:
  - {regex: '/api/v[0-9]+/customers/[^/]+', template: '/api/vN/customers/{id}'}
  - '/static/.*=/static'
request_buckets: [0.01, 0.1, 1]
upstream_buckets: [0.005, 0.05]
max_routes: 50
interval: 5s
)",
                      &config, &error);
  INFO(error);
  REQUIRE(ok);
  CHECK(config.path == "/var/log/nginx/access.log");
  CHECK(config.log_format == "$msec\\t$status\\t$uri");
  REQUIRE(config.route_rules.size() == 2);
  CHECK(config.route_rules[0].route_template == "/api/vN/customers/{id}");
  CHECK(config.route_rules[1].regex == "/static/.*");
  CHECK(config.request_buckets == std::vector<double>{0.01, 0.1, 1});
  CHECK(config.upstream_buckets == std::vector<double>{0.005, 0.05});
  CHECK(config.max_routes == 50);
  CHECK(config.interval_ms == 5000);

  NginxLogConfig defaults;
  REQUIRE(ParseYaml("{path: /a, log_format: '$status'}", &defaults, &error));
  CHECK(defaults.interval_ms == 0);
  CHECK(defaults.max_routes == 200);
  CHECK(defaults.request_buckets.size() == 13);
}

TEST_CASE("config errors name the line and column") {
  CHECK(ConfigError("path: /a\nlog_format: '$status'\npathh: /b\n") ==
        "3:1: unknown key \"pathh\" in an nginx_log source");
  CHECK(ConfigError("path: /a\n") == "1:1: an nginx_log source needs path and log_format");
  CHECK(ConfigError("path: /a\nlog_format: '$status$uri'\n").starts_with("2:13: log_format: "));
  CHECK(ConfigError("path: /a\nlog_format: $status\nrequest_buckets: [1, 0.5]\n") ==
        "3:22: request_buckets must increase strictly");
  CHECK(ConfigError("path: /a\nlog_format: $status\nupstream_buckets: [x]\n")
            .starts_with("3:20: upstream_buckets: \"x\" is not a finite number"));
  CHECK(ConfigError("path: /a\nlog_format: $status\nroute_rules: [{regex: '(', template: x}]\n")
            .find("route rule regex") != std::string::npos);
  CHECK(ConfigError("path: /a\nlog_format: $status\nroute_rules: [{regx: a, template: x}]\n") ==
        "3:16: unknown route rule key \"regx\"");
  CHECK(ConfigError("path: /a\nlog_format: $status\nmax_routes: 0\n") ==
        "3:13: max_routes must be an integer from 1 to 100000");
  CHECK(ConfigError("path: /a\nlog_format: $status\ninterval: 5 seconds\n").starts_with("3:11: "));
  CHECK(ConfigError("[1, 2]") == "1:1: an nginx_log source must be a map");
}

TEST_CASE("collections: cumulative counters across appends, a malformed line and a rotation") {
  TempDir dir;
  NginxLogConfig config;
  config.path = dir.File("access.log");
  config.log_format = launcher::AccessLogFormatDirective();
  Append(config.path, DemoLine("/api/customers/1", "200", "127.0.0.1:4001"));
  Append(config.path, DemoLine("/api/customers/2", "200", "127.0.0.1:4001"));
  std::unique_ptr<NginxLogSource> source = MakeNginxLogSourceFromStart(config);
  REQUIRE(source != nullptr);
  CHECK(source->name() == "nginx_log:" + config.path);
  const std::string customers =
      "method=\"GET\", route=\"/api/customers/{id}\", status=\"200\", upstream=\"127.0.0.1:4001\"";

  RecordingSink first;
  source->Collect(1000, first);
  CHECK(first.Requests(customers) == 2);
  CHECK(source->lines_parsed() == 2);

  Append(config.path, "a line from another format\n");
  Append(config.path, DemoLine("/api/customers/3", "200", "127.0.0.1:4001"));
  RecordingSink second;
  source->Collect(2000, second);
  CHECK(second.Requests(customers) == 3);
  CHECK(source->lines_parsed() == 3);
  CHECK(source->lines_rejected() == 1);

  fs::rename(config.path, config.path + ".1");
  Append(config.path + ".1", DemoLine("/api/customers/4", "200", "127.0.0.1:4001"));
  Append(config.path, DemoLine("/api/customers/5", "200", "127.0.0.1:4001"));
  RecordingSink third;
  source->Collect(3000, third);
  CHECK(third.Requests(customers) == 5);
  CHECK(source->lines_parsed() == 5);
}

TEST_CASE("the agent's source starts at the end of a log that already exists") {
  TempDir dir;
  NginxLogConfig config;
  config.path = dir.File("access.log");
  config.log_format = launcher::AccessLogFormatDirective();
  Append(config.path, DemoLine("/old", "200", "127.0.0.1:4001"));
  std::unique_ptr<NginxLogSource> source = MakeNginxLogSource(config);
  REQUIRE(source != nullptr);
  RecordingSink empty;
  source->Collect(1000, empty);
  CHECK(empty.samples.empty());
  Append(config.path, DemoLine("/new", "503", "127.0.0.1:4002"));
  RecordingSink sink;
  source->Collect(2000, sink);
  CHECK(sink.Requests(
            "method=\"GET\", route=\"/new\", status=\"503\", upstream=\"127.0.0.1:4002\"") == 1);
  CHECK(sink.Requests(
            "method=\"GET\", route=\"/old\", status=\"200\", upstream=\"127.0.0.1:4001\"") == -1);

  config.log_format = "$status$uri";
  CHECK(MakeNginxLogSource(config) == nullptr);
}

TEST_CASE("parse-nginx-log prints the exposition and reports each bad line with its number") {
  TempDir dir;
  const std::string log = dir.File("access.log");
  Append(log, DemoLine("/api/tickets/7", "200", "127.0.0.1:4001, 127.0.0.1:4002"));
  Append(log, "broken line\n");
  Append(log, DemoLine("/api/tickets/8", "200", "127.0.0.1:4002"));
  Append(log, "1.0\tGET\t/x\tbad\t0.1\t-\t-\t-\t-\t-\t0\t-");  // last line, no newline
  CommandResult r = RunCommand(
      dir, {"parse-nginx-log", "--log-format", launcher::AccessLogFormatDirective(), "--route-rule",
            "/api/tickets/[0-9]+=/tickets/{n}", "--request-buckets=0.01,1", log});
  CHECK(r.status == 0);
  CHECK(r.err ==
        log + ":2: does not match the log_format: broken line\n" + log +
            ":4: $status is not an HTTP status: 1.0\tGET\t/x\tbad\t0.1\t-\t-\t-\t-\t-\t0\t-\n" +
            log + ": 2 lines parsed, 2 rejected\n");
  CHECK(r.out.find("# TYPE crmscope_proxy_requests_total counter\n") != std::string::npos);
  CHECK(r.out.find("crmscope_proxy_requests_total{method=\"GET\",route=\"/tickets/{n}\",status="
                   "\"200\",upstream=\"127.0.0.1:4002\"} 2\n") != std::string::npos);
  CHECK(r.out.find("# TYPE crmscope_proxy_request_duration_seconds histogram\n") !=
        std::string::npos);
  CHECK(r.out.find("crmscope_proxy_request_duration_seconds_bucket{le=\"0.01\",method=\"GET\","
                   "route=\"/tickets/{n}\",upstream=\"127.0.0.1:4002\"} 2\n") != std::string::npos);
  CHECK(r.out.find("crmscope_proxy_request_duration_seconds_bucket{le=\"+Inf\",method=\"GET\","
                   "route=\"/tickets/{n}\",upstream=\"127.0.0.1:4002\"} 2\n") != std::string::npos);
  CHECK(r.out.find("crmscope_proxy_upstream_attempts_total{status=\"200\",upstream=\"127.0.0.1:"
                   "4001\"} 1\n") != std::string::npos);
}

TEST_CASE("parse-nginx-log: exit 2 on bad flags, 1 on an unreadable file") {
  TempDir dir;
  CHECK(RunCommand(dir, {"parse-nginx-log", dir.File("x")}).status == 2);  // no --log-format
  CHECK(RunCommand(dir, {"parse-nginx-log", "--log-format", "$status"}).status == 2);  // no FILE
  CHECK(RunCommand(dir, {"parse-nginx-log", "--log-format", "$status$uri", "f"}).status == 2);
  CHECK(RunCommand(dir, {"parse-nginx-log", "--log-format", "$status", "--bogus", "f"}).status ==
        2);
  CHECK(RunCommand(dir, {"parse-nginx-log", "--log-format", "$status", "--route-rule", "(=x", "f"})
            .status == 2);
  CommandResult missing =
      RunCommand(dir, {"parse-nginx-log", "--log-format", "$status", dir.File("missing.log")});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("No such file") != std::string::npos);
}
