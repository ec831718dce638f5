#include "agent/sources/host/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include "agent/sources/host/proc_file.h"

namespace crmscope::agent::host {

namespace {

enum Metric { kCpu, kResident, kVirtual, kOpenFds, kMaxFds, kStartTime, kThreads, kMetricCount };
struct Family {
  std::string_view name;
  MetricKind kind;
  std::string_view help;
};
// The Go client's names and help strings; process_threads as crmscope's own process collector.
constexpr std::array<Family, kMetricCount> kFamilies = {{
    {"process_cpu_seconds_total", MetricKind::kCounter,
     "Total user and system CPU time spent in seconds."},
    {"process_resident_memory_bytes", MetricKind::kGauge, "Resident memory size in bytes."},
    {"process_virtual_memory_bytes", MetricKind::kGauge, "Virtual memory size in bytes."},
    {"process_open_fds", MetricKind::kGauge, "Number of open file descriptors."},
    {"process_max_fds", MetricKind::kGauge, "Maximum number of open file descriptors."},
    {"process_start_time_seconds", MetricKind::kGauge,
     "Start time of the process since unix epoch in seconds."},
    {"process_threads", MetricKind::kGauge, "Number of OS threads in the process."},
}};
constexpr std::string_view kCountFamily = "crmscope_processes";
constexpr std::string_view kCountHelp =
    "Processes found for the configured name, by pid file or command name; 0 when none runs.";

// The kernel keeps 15 characters of a command name (TASK_COMM_LEN 16 with the NUL).
constexpr size_t kCommLength = 15;

// How often a comm scan reads again the processes that did not match (an exec may rename one).
constexpr uint64_t kRecheckEvery = 30;

struct DirClose {
  void operator()(DIR* dir) const { closedir(dir); }
};

bool ParsePid(std::string_view text, int* pid) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  uint64_t value = 0;
  if (!ParseUint(text, &value) || value == 0 || value > 0x7fffffff) return false;
  *pid = static_cast<int>(value);
  return true;
}

}  // namespace

ProcessStats::ProcessStats(const std::string& proc, const Labels& base,
                           std::vector<ProcessMatch> matches)
    : proc_(proc),
      base_(base),
      matches_(std::move(matches)),
      ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))),
      page_bytes_(static_cast<double>(sysconf(_SC_PAGESIZE))) {
  for (ProcessMatch& m : matches_) {
    if (m.pidfile.empty() && m.comm.empty()) m.comm = m.name;
    if (m.comm.size() > kCommLength) m.comm.resize(kCommLength);
    any_comm_ = any_comm_ || m.pidfile.empty();
    count_series_.push_back(SeriesLabels(base_, kCountFamily, {{"process", m.name}}));
  }
  counts_.resize(matches_.size());
  path_ = proc_ + "/stat";
  if (ReadProcFile(path_.c_str(), &buffer_)) {
    size_t at = buffer_.find("\nbtime ");
    if (at != std::string::npos)
      boot_time_seconds_ = std::strtod(buffer_.c_str() + at + 7, nullptr);
  }
}

void ProcessStats::Collect(SampleSink& sink) {
  found_.clear();
  std::fill(counts_.begin(), counts_.end(), 0);
  for (size_t i = 0; i < matches_.size(); ++i) {
    if (!matches_[i].pidfile.empty()) FindByPidFile(i);
  }
  if (any_comm_) FindByComm();
  sink.Describe(kCountFamily, MetricKind::kGauge, kCountHelp, "");
  for (size_t i = 0; i < matches_.size(); ++i) sink.Add(count_series_[i], counts_[i]);
  if (found_.empty()) {
    processes_.StartCollection();
    processes_.DropUnseen();
    return;
  }
  for (const Family& f : kFamilies) sink.Describe(f.name, f.kind, f.help, "");
  processes_.StartCollection();
  for (const Found& found : found_) AddProcess(found, sink);
  processes_.DropUnseen();
}

void ProcessStats::FindByPidFile(size_t match) {
  int pid = 0;
  std::string_view comm;
  Stat stat;
  if (!ReadProcFile(matches_[match].pidfile.c_str(), &buffer_) || !ParsePid(buffer_, &pid) ||
      !ReadStat(pid, &comm, &stat)) {
    return;
  }
  found_.push_back({match, pid, stat});
  ++counts_[match];
}

// One pass over /proc for every comm-matched name: each process's stat carries its comm, and the
// same read gives the numbers if it matches. Reading every process's stat each second cost 2.9 ms
// of CPU per collection on a host with 156 processes; skipping known non-matches leaves a
// directory listing and the matched processes' reads.
void ProcessStats::FindByComm() {
  std::unique_ptr<DIR, DirClose> dir(opendir(proc_.c_str()));
  if (!dir) return;
  ++scans_;
  bool recheck_all = scans_ % kRecheckEvery == 0;
  while (const dirent* entry = readdir(dir.get())) {
    int pid = 0;
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9' || !ParsePid(entry->d_name, &pid)) {
      continue;
    }
    auto known = unmatched_.find(pid);
    if (known != unmatched_.end() && !known->second.young && !recheck_all) {
      known->second.seen = scans_;
      continue;
    }
    std::string_view comm;
    Stat stat;
    if (!ReadStat(pid, &comm, &stat)) continue;
    bool matched = false;
    for (size_t i = 0; i < matches_.size(); ++i) {
      if (!matches_[i].pidfile.empty() || comm != matches_[i].comm) continue;
      found_.push_back({i, pid, stat});
      ++counts_[i];
      matched = true;
    }
    if (matched) {
      if (known != unmatched_.end()) unmatched_.erase(known);
    } else if (known == unmatched_.end()) {
      unmatched_.emplace(pid, Unmatched{scans_, true});
    } else {
      known->second = Unmatched{scans_, false};
    }
  }
  std::erase_if(unmatched_, [&](const auto& entry) { return entry.second.seen != scans_; });
}

// proc(5): fields count from 1; the command name (2) is in parentheses and may hold spaces and
// ')' itself, so counting resumes after its last ')'.
bool ProcessStats::ReadStat(int pid, std::string_view* comm, Stat* stat) {
  path_.assign(proc_).append("/").append(std::to_string(pid)).append("/stat");
  if (!ReadProcFile(path_.c_str(), &buffer_)) return false;
  size_t open = buffer_.find('('), close = buffer_.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *comm = std::string_view(buffer_).substr(open + 1, close - open - 1);
  std::string_view rest = std::string_view(buffer_).substr(close + 1);
  for (int field = 3; field <= 24; ++field) {
    std::string_view text = NextField(&rest);
    if (text.empty()) return false;
    double value = 0;
    if (field < 14 || field == 16 || field == 17 || field == 18 || field == 19 || field == 21) {
      continue;
    }
    if (!ParseDouble(text, &value)) return false;
    switch (field) {
      case 14:
        stat->utime_ticks = value;
        break;
      case 15:
        stat->stime_ticks = value;
        break;
      case 20:
        stat->threads = value;
        break;
      case 22:
        stat->start_ticks = value;
        break;
      case 23:
        stat->vsize_bytes = value;
        break;
      case 24:
        stat->rss_pages = value;
        break;
      default:
        break;
    }
  }
  return true;
}

void ProcessStats::AddProcess(const Found& found, SampleSink& sink) {
  const std::string pid = std::to_string(found.pid);
  path_.assign(std::to_string(found.match)).append("/").append(pid);
  SeriesTable::Row& row = processes_.Find(path_, [&](SeriesTable::Row& r) {
    for (const Family& f : kFamilies) {
      r.series.push_back(
          SeriesLabels(base_, f.name, {{"pid", pid}, {"process", matches_[found.match].name}}));
    }
  });
  const Stat& s = found.stat;
  sink.Add(row.series[kCpu], (s.utime_ticks + s.stime_ticks) / ticks_per_second_);
  sink.Add(row.series[kResident], s.rss_pages * page_bytes_);
  sink.Add(row.series[kVirtual], s.vsize_bytes);
  sink.Add(row.series[kThreads], s.threads);
  sink.Add(row.series[kStartTime], boot_time_seconds_ + s.start_ticks / ticks_per_second_);
  double fds = OpenFds(found.pid);
  if (fds >= 0) sink.Add(row.series[kOpenFds], fds);
  double max = 0;
  if (MaxFds(found.pid, &max)) sink.Add(row.series[kMaxFds], max);
}

// -1 when the directory cannot be read (another user's process without the privilege).
double ProcessStats::OpenFds(int pid) {
  path_.assign(proc_).append("/").append(std::to_string(pid)).append("/fd");
  std::unique_ptr<DIR, DirClose> dir(opendir(path_.c_str()));
  if (!dir) return -1;
  double n = 0;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] != '.') ++n;
  }
  // Counting our own descriptors counts the one the count itself holds open.
  return pid == getpid() ? n - 1 : n;
}

// The soft limit from "Max open files  1024  1048576  files"; "unlimited" as Go's procfs reads
// it (the largest uint64).
bool ProcessStats::MaxFds(int pid, double* max) {
  path_.assign(proc_).append("/").append(std::to_string(pid)).append("/limits");
  if (!ReadProcFile(path_.c_str(), &buffer_)) return false;
  size_t at = buffer_.find("Max open files");
  if (at == std::string::npos) return false;
  std::string_view rest = std::string_view(buffer_).substr(at + 14);
  std::string_view soft = NextField(&rest);
  if (soft == "unlimited") {
    *max = 18446744073709551615.0;
    return true;
  }
  return ParseDouble(soft, max);
}

}  // namespace crmscope::agent::host
