#include "crm_demo/launcher/demo_stack.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time.h"
#include "crm_demo/launcher/access_log.h"
#include "crm_demo/launcher/agent_configs.h"
#include "crm_demo/launcher/http_client.h"
#include "crm_demo/launcher/log_file.h"
#include "crm_demo/launcher/loopback.h"
#include "crm_demo/launcher/nginx_config.h"

namespace crmscope::launcher {

namespace fs = std::filesystem;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kLoadStopGrace = std::chrono::milliseconds(5000);
// A node stopping in the middle of a drop_index fault recreates the index before it exits:
// seconds on the default database.
constexpr auto kStopGrace = std::chrono::milliseconds(15000);
constexpr const char* kListeningMarker = "msg=Listening address=127.0.0.1:";

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The port a crm-node logged in its "msg=Listening address=127.0.0.1:PORT" line, or 0.
int LoggedPort(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find(kListeningMarker);
    if (at != std::string::npos) return std::atoi(line.c_str() + at + strlen(kListeningMarker));
  }
  return 0;
}

std::string FormatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

bool FindBinaries(const std::string& build_dir, Binaries* binaries, std::string* error) {
  binaries->crm_node = build_dir + "/crm_demo/node/crm-node";
  binaries->crm_loadgen = build_dir + "/crm_demo/loadgen/crm-loadgen";
  binaries->collector = build_dir + "/collector/crmscope-collector";
  binaries->agent = build_dir + "/agent/core/crmscope-agent";
  for (const std::string* path :
       {&binaries->crm_node, &binaries->crm_loadgen, &binaries->collector, &binaries->agent}) {
    if (!Executable(*path)) {
      *error = *path + " is missing: build it first (cmake --build " + build_dir + " --target " +
               fs::path(*path).filename().string() + ")";
      return false;
    }
  }
  return true;
}

DemoStack::DemoStack(const DemoOptions& options, RunDirectory dir, Binaries binaries,
                     StopSignals& signals)
    : options_(options), dir_(std::move(dir)), binaries_(std::move(binaries)), signals_(signals) {}

DemoStack::~DemoStack() { Stop(); }

ChildProcess* DemoStack::Spawn(const std::string& name, const std::vector<std::string>& argv,
                               std::string* error) {
  std::unique_ptr<ChildProcess> child = ChildProcess::Spawn(name, argv, dir_.LogOf(name), error);
  if (!child) return nullptr;
  children_.push_back(std::move(child));
  return children_.back().get();
}

bool DemoStack::WaitUntil(ChildProcess& child, const std::string& what, int limit_s,
                          const std::function<bool()>& ready, std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  while (!ready()) {
    if (child.Reap()) {
      *error = child.name() + " " + child.DescribeExit() + " while starting; the end of " +
               child.log_path() + ":\n" + LastLines(child.log_path(), 10);
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *error = child.name() + ": " + what + " not within " + std::to_string(limit_s) +
               "s; the end of " + child.log_path() + ":\n" + LastLines(child.log_path(), 10);
      return false;
    }
    signals_.Wait(kPollInterval);
    if (signals_.stop_signal() != 0) {
      error->clear();
      return false;
    }
  }
  return true;
}

bool DemoStack::PrepareDatabase(std::string* error) {
  if (SeededWith(dir_, options_.sizes)) {
    database_reused_ = true;
    return RestoreIndexes(dir_.db_file, error);
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir_.db_file + suffix, ec);
  fs::remove(dir_.seed_record, ec);
  const SeedSizes& s = options_.sizes;
  std::fprintf(stderr, "crmscope demo: seeding %s (%lld customers, %lld orders, %lld tickets)\n",
               dir_.db_file.c_str(), static_cast<long long>(s.customers),
               static_cast<long long>(s.orders), static_cast<long long>(s.tickets));
  ChildProcess* seeder =
      Spawn("seed",
            {binaries_.crm_node, "seed", "--db=" + dir_.db_file,
             "--customers=" + std::to_string(s.customers), "--orders=" + std::to_string(s.orders),
             "--tickets=" + std::to_string(s.tickets), "--seed=" + std::to_string(s.seed)},
            error);
  if (seeder == nullptr) return false;
  while (!seeder->Reap()) {
    signals_.Wait(kPollInterval);
    if (signals_.stop_signal() != 0) {
      error->clear();
      return false;
    }
  }
  reported_exits_.push_back(seeder);  // its exit is expected, never a failure of the run
  if (!seeder->ExitedCleanly()) {
    *error = "crm-node seed " + seeder->DescribeExit() + ":\n" + LastLines(seeder->log_path(), 10);
    return false;
  }
  return RecordSeed(dir_, options_.sizes, error);
}

bool DemoStack::StartCollector(std::string* error) {
  std::vector<int> port;
  if (!PickFreePorts(1, &port, error)) return false;
  collector_url_ = "http://127.0.0.1:" + std::to_string(port[0]);
  ChildProcess* child =
      Spawn("collector",
            {binaries_.collector, "--web.listen-address=127.0.0.1:" + std::to_string(port[0]),
             "--storage.path=" + dir_.collector_data},
            error);
  HttpClient http;
  return child &&
         WaitUntil(
             *child, "/-/ready answering 200", 60,
             [&] {
               return http.Get(collector_url_ + "/-/ready", std::chrono::milliseconds(500)).ok();
             },
             error);
}

bool DemoStack::StartRedis(std::string* error) {
  std::vector<int> port;
  if (!PickFreePorts(1, &port, error)) return false;
  redis_port_ = port[0];
  // No persistence: the cache is rebuilt from the database, and a save would fork.
  ChildProcess* child = Spawn(
      "redis",
      {binaries_.redis, "--port", std::to_string(redis_port_), "--bind", "127.0.0.1", "--save", "",
       "--appendonly", "no", "--dir", dir_.redis_dir, "--daemonize", "no", "--logfile", ""},
      error);
  return child &&
         WaitUntil(
             *child, "PING answered", 20,
             [&] { return RedisAnswersPing(redis_port_, std::chrono::milliseconds(300)); }, error);
}

bool DemoStack::StartNode(int index, std::string* error) {
  RunningNode node;
  node.name = "node" + std::to_string(index);
  std::string cache = options_.cache == "redis" ? "redis://127.0.0.1:" + std::to_string(redis_port_)
                                                : options_.cache;
  // A node restarted into the same run directory must not find the previous port in its log.
  std::error_code ec;
  fs::remove(dir_.LogOf(node.name), ec);
  node.process =
      Spawn(node.name,
            {binaries_.crm_node, "serve", "--db=" + dir_.db_file,
             "--web.listen-address=127.0.0.1:0", "--node-name=" + node.name, "--cache=" + cache,
             "--cache.capacity=" + std::to_string(options_.cache_capacity),
             "--threads=" + std::to_string(options_.node_threads), "--admin-token-file=" + dir_.admin_token},
            error);
  if (node.process == nullptr) return false;
  if (!WaitUntil(
          *node.process, "logging its address", 60,
          [&] { return (node.port = LoggedPort(node.process->log_path())) != 0; }, error)) {
    return false;
  }
  node.url = "http://127.0.0.1:" + std::to_string(node.port);
  HttpClient http;
  if (!WaitUntil(
          *node.process, "/healthz answering 200", 30,
          [&] { return http.Get(node.url + "/healthz", std::chrono::milliseconds(1000)).ok(); },
          error)) {
    return false;
  }
  nodes_.push_back(std::move(node));
  return true;
}

bool DemoStack::StartNginx(std::string* error) {
  std::vector<int> port;
  if (!PickFreePorts(1, &port, error)) return false;
  NginxSite site;
  site.prefix = dir_.nginx_prefix;
  site.listen_port = port[0];
  for (const RunningNode& node : nodes_) site.node_ports.push_back(node.port);
  site.lb = options_.lb;
  site.access_log = dir_.access_log;
  site.error_log = dir_.error_log;
  site.worker_processes = options_.nginx_workers;
  if (::geteuid() == 0) {
    site.run_as_user = "root";
    site.run_as_group = "root";
  }
  if (!WriteFileAtomically(dir_.nginx_conf, RenderNginxConfig(site), error) ||
      !WriteFileAtomically(dir_.access_log_format, AccessLogFormatJson(), error)) {
    return false;
  }
  proxy_url_ = "http://127.0.0.1:" + std::to_string(port[0]);
  // -e: nginx opens its compiled-in error log (/var/log/nginx) before reading the config.
  ChildProcess* child = Spawn("nginx",
                              {binaries_.nginx, "-p", dir_.nginx_prefix, "-c", dir_.nginx_conf,
                               "-e", dir_.error_log, "-g", "daemon off;"},
                              error);
  HttpClient http;
  return child &&
         WaitUntil(
             *child, "stub_status answering 200", 20,
             [&] {
               return http
                   .Get(proxy_url_ + std::string(kStubStatusPath), std::chrono::milliseconds(500))
                   .ok();
             },
             error);
}

bool DemoStack::Start(std::string* error) {
  admin_token_ = options_.admin_token;
  if (!dir_.Create(error) || !WriteAdminToken(dir_, &admin_token_, error)) return false;
  std::error_code ec;
  fs::remove(dir_.stack_file, ec);  // a reader must never find the previous run's
  if (!PrepareDatabase(error) || !StartCollector(error)) return false;
  if (options_.cache == "redis" && !StartRedis(error)) return false;
  for (int i = 1; i <= options_.nodes; ++i) {
    if (!StartNode(i, error)) return false;
  }
  return StartNginx(error) && StartAgents(error);
}

bool DemoStack::StartAgent(const std::string& name, const std::string& config,
                           std::string* error) {
  std::string config_file = dir_.agents_dir + "/" + name + ".yml";
  std::error_code ec;
  fs::remove(dir_.LogOf(name), ec);
  if (!WriteFileAtomically(config_file, config, error)) return false;
  ChildProcess* child =
      Spawn(name,
            {binaries_.agent, "--config.file=" + config_file, "--web.listen-address=127.0.0.1:0",
             "--storage.path=" + dir_.agents_dir + "/" + name},
            error);
  if (child == nullptr) return false;
  agents_.push_back(child);
  return WaitUntil(
      *child, "logging its address", 30, [&] { return LoggedPort(child->log_path()) != 0; },
      error);
}

// One agent beside nginx and one per node, as a deployment runs them on each host.
bool DemoStack::StartAgents(std::string* error) {
  std::string write_url = collector_url_ + "/api/v1/write";
  ProxyAgentSite proxy;
  proxy.collector_write_url = write_url;
  proxy.access_log = dir_.access_log;
  proxy.stub_status_url = proxy_url_ + std::string(kStubStatusPath);
  if (!StartAgent("agent-proxy", RenderProxyAgentConfig(proxy), error)) return false;
  for (const RunningNode& node : nodes_) {
    NodeAgentSite site;
    site.collector_write_url = write_url;
    site.node_name = node.name;
    site.node_port = node.port;
    site.pid_file = dir_.agents_dir + "/" + node.name + ".pid";
    if (!WriteFileAtomically(site.pid_file, std::to_string(node.process->pid()) + "\n", error) ||
        !StartAgent("agent-" + node.name, RenderNodeAgentConfig(site), error)) {
      return false;
    }
  }
  return true;
}

bool DemoStack::StartLoad(std::string* error) {
  if (options_.rate <= 0) return true;
  std::vector<std::string> argv = {
      binaries_.crm_loadgen,
      "--target=" + proxy_url_,
      "--rate=" + FormatNumber(options_.rate),
      "--duration=" + (options_.duration_ms > 0 ? FormatDuration(options_.duration_ms) : "365d"),
      "--db=" + dir_.db_file,
      "--report-interval=5s",
      "--json=" + dir_.root + "/loadgen.json"};
  for (std::string& word : SplitWords(options_.loadgen_args)) argv.push_back(std::move(word));
  loadgen_ = Spawn("loadgen", argv, error);
  return loadgen_ != nullptr;
}

ChildProcess* DemoStack::ReapExited() {
  for (const std::unique_ptr<ChildProcess>& child : children_) {
    bool reported = std::find(reported_exits_.begin(), reported_exits_.end(), child.get()) !=
                    reported_exits_.end();
    if (!reported && child->Reap()) {
      reported_exits_.push_back(child.get());
      return child.get();
    }
  }
  return nullptr;
}

std::vector<std::string> DemoStack::Stop() {
  if (stopped_) return {};
  stopped_ = true;
  std::vector<std::string> killed;
  // SIGINT: crm-loadgen prints its summary for a Ctrl-C.
  if (loadgen_ != nullptr) killed = StopChildren({loadgen_}, SIGINT, kLoadStopGrace);
  // The agents before the collector, so they deliver what they queued instead of retrying
  // against a collector that is going away.
  for (std::string& name : StopChildren(agents_, SIGTERM, kStopGrace)) killed.push_back(name);
  std::vector<ChildProcess*> rest;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    bool agent = std::find(agents_.begin(), agents_.end(), it->get()) != agents_.end();
    if (it->get() != loadgen_ && !agent) rest.push_back(it->get());
  }
  for (std::string& name : StopChildren(rest, SIGTERM, kStopGrace)) killed.push_back(name);
  return killed;
}

}  // namespace crmscope::launcher
