// The host source against the machine it runs on: its values against /proc read by the test
// right before and after a collection, its process metrics against the test's own process, and
// its families and label sets against a real node_exporter (Debian's) on the same host.
#include "agent/sources/host/host_source.h"

#include <curl/curl.h>
#include <dirent.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using crmscope::Labels;
using crmscope::agent::HostConfig;
using crmscope::agent::MetricKind;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RecordingSink : crmscope::agent::SampleSink {
  std::map<std::string, double> values;                     // series without job and instance
  std::map<std::string, std::set<std::string>> label_sets;  // family -> label sets
  std::map<std::string, MetricKind> kinds;
  std::map<std::string, std::string> helps;
  void Add(const Labels& labels, double value) override {
    CHECK(crmscope::GetLabel(labels, "job") == "node");
    CHECK(!crmscope::GetLabel(labels, "instance").empty());
    Labels without = labels;
    std::erase_if(without, [](const auto& l) { return l.name == "job" || l.name == "instance"; });
    std::string key = crmscope::LabelsToString(without);
    CHECK_MESSAGE(values.count(key) == 0, ("twice: " + key));
    values[key] = value;
    std::string family(crmscope::MetricName(labels));
    label_sets[family].insert(key.substr(family.size()));
  }
  void AddAt(const Labels& labels, crmscope::TimestampMs, double value) override {
    Add(labels, value);
  }
  void Describe(std::string_view family, MetricKind kind, std::string_view help,
                std::string_view) override {
    kinds[std::string(family)] = kind;
    helps[std::string(family)] = help;
  }
  double at(const std::string& key) const {
    auto it = values.find(key.find('{') == std::string::npos ? key + "{}" : key);
    REQUIRE_MESSAGE(it != values.end(), (key + " missing"));
    return it->second;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Lines of a /proc table by their key (first word, or the device name at `key_index`).
std::map<std::string, std::vector<std::string>> Table(const std::string& path, size_t key_index) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> words = Words(line);
    if (words.size() > key_index) out[words[key_index]] = words;
  }
  return out;
}

double Ticks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

RecordingSink CollectHost(const HostConfig& config) {
  auto source = crmscope::agent::MakeHostSource(config);
  RecordingSink sink;
  source->Collect(1000, sink);
  return sink;
}

// Checks lo <= value <= hi for a counter read before and after the collection.
void CheckBetween(double value, double lo, double hi, const std::string& what) {
  CHECK_MESSAGE(value >= lo - 1e-9, what);
  CHECK_MESSAGE(value <= hi + 1e-9, what);
}

}  // namespace

TEST_CASE("host: node series equal /proc read around the collection") {
  auto stat_before = Table("/proc/stat", 0);
  auto disk_before = Table("/proc/diskstats", 2);
  auto net_before = Table("/proc/net/dev", 0);
  std::vector<std::string> load_before = Words(ReadFile("/proc/loadavg"));
  RecordingSink sink = CollectHost(HostConfig{});
  auto stat_after = Table("/proc/stat", 0);
  auto disk_after = Table("/proc/diskstats", 2);
  auto net_after = Table("/proc/net/dev", 0);
  std::vector<std::string> load_after = Words(ReadFile("/proc/loadavg"));

  const char* modes[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
  int cpus = 0;
  for (const auto& [key, words] : stat_before) {
    if (!key.starts_with("cpu") || key == "cpu") continue;
    ++cpus;
    std::string cpu = key.substr(3);
    for (size_t m = 0; m < 8; ++m) {
      std::string series = "node_cpu_seconds_total{cpu=\"" + cpu + "\", mode=\"" + modes[m] + "\"}";
      CheckBetween(sink.at(series), std::stod(words[m + 1]) / Ticks(),
                   std::stod(stat_after[key][m + 1]) / Ticks(), series);
    }
    CheckBetween(sink.at("node_cpu_guest_seconds_total{cpu=\"" + cpu + "\", mode=\"user\"}"),
                 std::stod(words[9]) / Ticks(), std::stod(stat_after[key][9]) / Ticks(), "guest");
  }
  CHECK(cpus > 0);
  CHECK(sink.label_sets["node_cpu_seconds_total"].size() == static_cast<size_t>(cpus) * 8);
  CHECK(sink.at("node_boot_time_seconds") == std::stod(stat_before["btime"][1]));
  CheckBetween(sink.at("node_context_switches_total"), std::stod(stat_before["ctxt"][1]),
               std::stod(stat_after["ctxt"][1]), "ctxt");
  CheckBetween(sink.at("node_forks_total"), std::stod(stat_before["processes"][1]),
               std::stod(stat_after["processes"][1]), "forks");
  CheckBetween(sink.at("node_intr_total"), std::stod(stat_before["intr"][1]),
               std::stod(stat_after["intr"][1]), "intr");
  CHECK(sink.at("node_procs_running") >= 1);  // this test

  for (size_t i = 0; i < 3; ++i) {
    double a = std::stod(load_before[i]), b = std::stod(load_after[i]);
    const char* name[] = {"node_load1", "node_load5", "node_load15"};
    CheckBetween(sink.at(name[i]), std::min(a, b), std::max(a, b), name[i]);
  }

  // MemTotal does not change; node_exporter's kB are KiB.
  auto meminfo = Table("/proc/meminfo", 0);
  CHECK(sink.at("node_memory_MemTotal_bytes") == std::stod(meminfo["MemTotal:"][1]) * 1024);
  CHECK(sink.at("node_memory_HugePages_Total") == std::stod(meminfo["HugePages_Total:"][1]));
  CHECK(sink.values.count("node_memory_Active_anon_bytes{}") == 1);
  CHECK(sink.values.count("node_memory_MemAvailable_bytes{}") == 1);
  size_t memory_series = 0;
  for (const auto& [family, sets] : sink.label_sets)
    memory_series += family.starts_with("node_memory_");
  CHECK(memory_series == meminfo.size());

  for (const auto& [device, words] : disk_before) {
    bool excluded = device.starts_with("loop") || device.starts_with("ram");
    std::string series = "node_disk_reads_completed_total{device=\"" + device + "\"}";
    if (excluded) {
      CHECK(sink.values.count(series) == 0);
      continue;
    }
    CheckBetween(sink.at(series), std::stod(words[3]), std::stod(disk_after[device][3]), series);
    CheckBetween(sink.at("node_disk_read_bytes_total{device=\"" + device + "\"}"),
                 std::stod(words[5]) * 512, std::stod(disk_after[device][5]) * 512, device);
    CheckBetween(sink.at("node_disk_io_time_seconds_total{device=\"" + device + "\"}"),
                 std::stod(words[12]) / 1000, std::stod(disk_after[device][12]) / 1000, device);
  }
  int interfaces = 0;
  for (const auto& [key, words] : net_before) {
    if (key.back() != ':') continue;
    std::string device = key.substr(0, key.size() - 1);
    std::string series = "node_network_receive_bytes_total{device=\"" + device + "\"}";
    if (device == "lo") {
      CHECK(sink.values.count(series) == 0);
      continue;
    }
    ++interfaces;
    CheckBetween(sink.at(series), std::stod(words[1]), std::stod(net_after[key][1]), series);
    CheckBetween(sink.at("node_network_transmit_packets_total{device=\"" + device + "\"}"),
                 std::stod(words[10]), std::stod(net_after[key][10]), device);
  }
  CHECK(sink.label_sets["node_network_receive_bytes_total"].size() ==
        static_cast<size_t>(interfaces));

  // The root filesystem, when node_exporter's filters let it through (not an overlay).
  for (const auto& [mount, words] : Table("/proc/1/mounts", 1)) {
    if (mount != "/" || words[2] == "overlay") continue;
    struct statvfs fs {};
    REQUIRE(statvfs("/", &fs) == 0);
    std::string labels =
        "{device=\"" + words[0] + "\", fstype=\"" + words[2] + "\", mountpoint=\"/\"}";
    CHECK(sink.at("node_filesystem_size_bytes" + labels) ==
          static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_bsize));
    CHECK(sink.at("node_filesystem_device_error" + labels) == 0);
  }
  CHECK(sink.kinds["node_cpu_seconds_total"] == MetricKind::kCounter);
  CHECK(sink.kinds["node_memory_MemTotal_bytes"] == MetricKind::kGauge);
  CHECK(sink.kinds["node_disk_io_now"] == MetricKind::kGauge);
}

TEST_CASE("host: process metrics of the test's own process, by pid file and by comm") {
  fs::path dir = fs::temp_directory_path() / ("host-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "self.pid") << getpid() << "\n";
  std::atomic<bool> stop{false};
  std::thread helper([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  std::string comm = ReadFile("/proc/self/comm");
  comm.pop_back();  // '\n'

  HostConfig config;
  config.collectors = {};
  config.processes = {{"self", (dir / "self.pid").string(), ""},
                      {"by-comm", "", comm},
                      {"gone", (dir / "missing.pid").string(), ""}};
  auto cpu_seconds = [] {
    std::string stat = ReadFile("/proc/self/stat");
    std::vector<std::string> f = Words(stat.substr(stat.rfind(')') + 2));
    return (std::stod(f[11]) + std::stod(f[12])) / Ticks();  // fields 14 and 15
  };
  double cpu_before = cpu_seconds();
  RecordingSink sink = CollectHost(config);
  double cpu_after = cpu_seconds();
  size_t threads = 0, fds = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/task")) threads += e.exists();
  {
    DIR* d = opendir("/proc/self/fd");
    REQUIRE(d != nullptr);
    while (dirent* e = readdir(d)) fds += e->d_name[0] != '.';
    closedir(d);
    --fds;  // this opendir's own
  }
  stop = true;
  helper.join();
  fs::remove_all(dir);

  std::string self = "{pid=\"" + std::to_string(getpid()) + "\", process=\"self\"}";
  CheckBetween(sink.at("process_cpu_seconds_total" + self), cpu_before, cpu_after, "cpu");
  CHECK(sink.at("process_threads" + self) == static_cast<double>(threads));
  CHECK(threads >= 2);
  CHECK(sink.at("process_open_fds" + self) == static_cast<double>(fds));
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  CHECK(sink.at("process_max_fds" + self) == static_cast<double>(limit.rlim_cur));
  std::string stat = ReadFile("/proc/self/stat");
  std::vector<std::string> f = Words(stat.substr(stat.rfind(')') + 2));
  double btime = std::stod(Table("/proc/stat", 0)["btime"][1]);
  CHECK(sink.at("process_start_time_seconds" + self) == btime + std::stod(f[19]) / Ticks());
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double rss_now = std::stod(f[21]) * page;
  CHECK(sink.at("process_resident_memory_bytes" + self) > rss_now * 0.5);
  CHECK(sink.at("process_resident_memory_bytes" + self) < rss_now * 2);
  CHECK(sink.at("process_virtual_memory_bytes" + self) > 0);
  CHECK(sink.at("crmscope_processes{process=\"self\"}") == 1);

  // Other copies of this test binary may run beside it (ctest -j): at least this one matches.
  std::string by_comm = "{pid=\"" + std::to_string(getpid()) + "\", process=\"by-comm\"}";
  CHECK(sink.values.count("process_cpu_seconds_total" + by_comm) == 1);
  CHECK(sink.at("crmscope_processes{process=\"by-comm\"}") >= 1);

  CHECK(sink.at("crmscope_processes{process=\"gone\"}") == 0);
  for (const auto& [key, value] : sink.values)
    CHECK((key.find("process=\"gone\"}") == key.npos || key.starts_with("crmscope_processes")));
  CHECK(sink.kinds["process_cpu_seconds_total"] == MetricKind::kCounter);
  CHECK(sink.helps["process_resident_memory_bytes"] == "Resident memory size in bytes.");
}

TEST_CASE("host: config") {
  HostConfig config;
  std::string error;
  REQUIRE(crmscope::agent::ParseHostConfig(
      YAML::Load("collectors: [cpu, meminfo]\nnetwork_device_exclude: '^(lo|docker.*)$'\n"
                 "processes:\n  - {name: crm-node, pidfile: /run/crm.pid}\n"
                 "  - {name: nginx, comm: nginx}\n  - {name: redis-server}\n"
                 "interval: 5s\njob: host\nlabels: {instance: crm1}"),
      &config, &error));
  CHECK(config.collectors == std::vector<std::string>{"cpu", "meminfo"});
  CHECK(config.network_device_exclude == "^(lo|docker.*)$");
  REQUIRE(config.processes.size() == 3);
  CHECK(config.processes[0].pidfile == "/run/crm.pid");
  CHECK(config.processes[1].comm == "nginx");
  CHECK(config.processes[2].name == "redis-server");
  CHECK(config.interval_ms == 5000);
  CHECK(config.job == "host");
  CHECK(config.labels == Labels{{"instance", "crm1"}});
  REQUIRE(crmscope::agent::ParseHostConfig(YAML::Node(), &config, &error));
  CHECK(config.collectors.size() == 7);

  CHECK_FALSE(
      crmscope::agent::ParseHostConfig(YAML::Load("collectors: [cpu, gpu]"), &config, &error));
  CHECK(error.starts_with("1:19: unknown collector \"gpu\""));
  CHECK_FALSE(crmscope::agent::ParseHostConfig(
      YAML::Load("processes:\n  - {name: a, pidfile: /p, comm: a}"), &config, &error));
  CHECK(error == "2:5: a process has either a pidfile or a comm, not both");
  CHECK_FALSE(
      crmscope::agent::ParseHostConfig(YAML::Load("processes:\n  - {comm: a}"), &config, &error));
  CHECK(error == "2:5: a process needs a name");
  CHECK_FALSE(
      crmscope::agent::ParseHostConfig(YAML::Load("disk_device_exclude: '('"), &config, &error));
  CHECK(error.starts_with("1:22: disk_device_exclude: invalid regexp"));
  CHECK_FALSE(crmscope::agent::ParseHostConfig(YAML::Load("process: []"), &config, &error));
  CHECK(error == "1:1: unknown key \"process\" in host");
}

namespace {

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

size_t AppendTo(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

bool Fetch(const std::string& url, std::string* body) {
  body->clear();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, body);
  long status = 0;
  bool ok = curl_easy_perform(curl.get()) == CURLE_OK;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  return ok && status == 200;
}

// node_exporter's /metrics: family -> label sets ("{a=\"b\", c=\"d\"}", sorted), TYPE and HELP.
struct NodeExporterOutput {
  std::map<std::string, std::set<std::string>> label_sets;
  std::map<std::string, double> values;
  std::map<std::string, std::string> types, helps;
};

NodeExporterOutput ParseNodeExporter(const std::string& text) {
  NodeExporterOutput out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      size_t space = line.find(' ', 7);
      std::string family = line.substr(7, space - 7), rest = line.substr(space + 1);
      (line[2] == 'H' ? out.helps : out.types)[family] = rest;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    size_t value_at = line.rfind(' ');
    std::string series = line.substr(0, value_at);
    size_t brace = series.find('{');
    Labels labels = {{"__name__", series.substr(0, brace)}};
    if (brace != std::string::npos) {
      size_t p = brace + 1;
      while (series[p] != '}') {
        size_t eq = series.find("=\"", p), close = eq + 2;
        std::string value;
        for (; series[close] != '"'; ++close) {
          if (series[close] == '\\') ++close;
          value.push_back(series[close]);
        }
        labels.push_back({series.substr(p, eq - p), value});
        p = close + 1;
        if (series[p] == ',') ++p;
      }
    }
    crmscope::SortLabels(labels);
    std::string key = crmscope::LabelsToString(labels);
    std::string family = labels.front().name == "__name__" ? labels.front().value : "";
    for (const auto& l : labels) {
      if (l.name == "__name__") family = l.value;
    }
    out.label_sets[family].insert(key.substr(family.size()));
    out.values[key] = std::stod(line.substr(value_at + 1));
  }
  return out;
}

}  // namespace

TEST_CASE("host: the same families, types, help and label sets as node_exporter") {
  int port = FreePort();
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  std::vector<std::string> argv = {"prometheus-node-exporter",
                                   listen,
                                   "--collector.disable-defaults",
                                   "--collector.cpu",
                                   "--collector.stat",
                                   "--collector.loadavg",
                                   "--collector.meminfo",
                                   "--collector.diskstats",
                                   "--collector.netdev",
                                   "--collector.filesystem",
                                   "--log.level=warn"};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  REQUIRE(posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
  std::string text;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  bool fetched = false;
  while (!(fetched = Fetch("http://127.0.0.1:" + std::to_string(port) + "/metrics", &text)) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  RecordingSink ours = CollectHost(HostConfig{});
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  REQUIRE(fetched);
  NodeExporterOutput theirs = ParseNodeExporter(text);

  for (const auto& [family, sets] : ours.label_sets) {
    REQUIRE_MESSAGE(theirs.label_sets.count(family) == 1, ("node_exporter lacks " + family));
    CHECK_MESSAGE(sets == theirs.label_sets[family], family);
    CHECK_MESSAGE(
        theirs.types[family] == (ours.kinds[family] == MetricKind::kCounter ? "counter" : "gauge"),
        family);
    CHECK_MESSAGE(theirs.helps[family] == ours.helps[family], family);
  }
  // What node_exporter's collectors write and ours do not: netlink-only and sysfs-only families.
  std::set<std::string> only_theirs;
  for (const auto& [family, sets] : theirs.label_sets) {
    if (family.starts_with("node_") && !family.starts_with("node_scrape_") &&
        !family.starts_with("node_exporter_") && !ours.label_sets.count(family)) {
      only_theirs.insert(family);
    }
  }
  CHECK(only_theirs ==
        std::set<std::string>{"node_disk_info", "node_network_receive_nohandler_total"});
  CHECK(ours.at("node_memory_MemTotal_bytes") == theirs.values["node_memory_MemTotal_bytes{}"]);
  CHECK(ours.at("node_boot_time_seconds") == theirs.values["node_boot_time_seconds{}"]);
}

TEST_CASE("host: processes found by comm as they start, exec into the name, and exit") {
  HostConfig config;
  config.collectors = {};
  config.processes = {{"sleeper", "", "sleep"}};
  auto source = crmscope::agent::MakeHostSource(config);
  auto has_pid = [&](pid_t pid) {
    RecordingSink sink;
    source->Collect(1000, sink);
    return sink.values.count("process_threads{pid=\"" + std::to_string(pid) +
                             "\", process=\"sleeper\"}") == 1;
  };
  // stdin_fd >= 0 becomes the child's standard input.
  auto spawn = [](std::vector<std::string> argv, int stdin_fd = -1) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return pid;
  };
  auto comm_of = [](pid_t pid) { return ReadFile("/proc/" + std::to_string(pid) + "/comm"); };

  CHECK_FALSE(has_pid(getpid()));
  pid_t sleeper = spawn({"sleep", "30"});
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (comm_of(sleeper) != "sleep\n" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(has_pid(sleeper));

  // Seen first as a shell, then renamed by exec when the test says so: found on the next
  // collection all the same.
  int go[2];
  REQUIRE(pipe(go) == 0);
  pid_t renamed = spawn({"bash", "-c", "read line; exec sleep 30"}, go[0]);
  close(go[0]);
  while (comm_of(renamed) != "bash\n" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK_FALSE(has_pid(renamed));
  REQUIRE(write(go[1], "go\n", 3) == 3);
  close(go[1]);
  while (comm_of(renamed) != "sleep\n" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(has_pid(renamed));

  kill(sleeper, SIGKILL);
  kill(renamed, SIGKILL);
  waitpid(sleeper, nullptr, 0);
  waitpid(renamed, nullptr, 0);
  CHECK_FALSE(has_pid(sleeper));
  CHECK_FALSE(has_pid(renamed));
}
