#include "exporters/instrumentation/process_collector.h"

#include "exporters/instrumentation/text_exposition.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace crmscope::instrumentation {

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// Reads a small /proc file whole; /proc files report size 0, so stat() cannot size the read.
bool ReadSmallFile(const char* path, std::string* out) {
  FdCloser file{open(path, O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(file.fd, buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, threads = 0, start_ticks = 0, vsize_bytes = 0,
         rss_pages = 0;
};

// proc(5): fields are counted from 1; the command name (2) is in parentheses and may hold
// spaces and ')' itself, so counting starts after its last ')'.
bool ParseProcStat(const std::string& text, ProcStat* out) {
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return false;
  const char* p = text.c_str() + close_paren + 1;
  for (int field = 3; field <= 24; ++field) {
    while (*p == ' ') ++p;
    if (*p == '\0') return false;
    char* end = nullptr;
    double value = std::strtod(p, &end);
    if (end == p) value = 0;  // the state letter (field 3)
    while (*p != ' ' && *p != '\0') ++p;
    switch (field) {
      case 14:
        out->utime_ticks = value;
        break;
      case 15:
        out->stime_ticks = value;
        break;
      case 20:
        out->threads = value;
        break;
      case 22:
        out->start_ticks = value;
        break;
      case 23:
        out->vsize_bytes = value;
        break;
      case 24:
        out->rss_pages = value;
        break;
      default:
        break;
    }
  }
  return true;
}

bool ReadBootTime(double* seconds) {
  std::string text;
  if (!ReadSmallFile("/proc/stat", &text)) return false;
  size_t at = text.find("\nbtime ");
  if (at == std::string::npos) return false;
  *seconds = std::strtod(text.c_str() + at + 7, nullptr);
  return true;
}

bool CountOpenFds(double* count) {
  std::unique_ptr<DIR, DirCloser> dir(opendir("/proc/self/fd"));
  if (!dir) return false;
  double n = 0;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] != '.') ++n;
  }
  *count = n - 1;  // opendir's own descriptor is listed too
  return true;
}

}  // namespace

ProcessCollector::ProcessCollector() {
  std::string text;
  ProcStat stat;
  double boot = 0;
  if (ReadSmallFile("/proc/self/stat", &text) && ParseProcStat(text, &stat) &&
      ReadBootTime(&boot)) {
    start_time_seconds_ = boot + stat.start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    start_time_known_ = true;
  }
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::string text;
  ProcStat stat;
  if (ReadSmallFile("/proc/self/stat", &text) && ParseProcStat(text, &stat)) {
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    AddSingleValueFamily(&out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              MetricType::Counter, (stat.utime_ticks + stat.stime_ticks) / ticks);
    AddSingleValueFamily(&out, "process_resident_memory_bytes", "Resident memory size in bytes.",
              MetricType::Gauge, stat.rss_pages * page);
    AddSingleValueFamily(&out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
              MetricType::Gauge, stat.vsize_bytes);
    AddSingleValueFamily(&out, "process_threads", "Number of OS threads in the process.", MetricType::Gauge,
              stat.threads);
  }
  double fds = 0;
  if (CountOpenFds(&fds)) {
    AddSingleValueFamily(&out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    AddSingleValueFamily(&out, "process_max_fds", "Maximum number of open file descriptors.",
              MetricType::Gauge,
              limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur));
  }
  if (start_time_known_) {
    AddSingleValueFamily(&out, "process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
              start_time_seconds_);
  }
  return out;
}

}  // namespace crmscope::instrumentation
