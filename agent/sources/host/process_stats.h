// Prometheus's process collector metrics (process_cpu_seconds_total, ...) for processes other
// than the agent, found each collection by pid file or by command name, so a restarted process
// is followed under its new pid.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/sources/host/host_source.h"
#include "agent/sources/host/series_table.h"
#include "agent/sources/source.h"

namespace crmscope::agent::host {

class ProcessStats {
 public:
  ProcessStats(const std::string& proc, const Labels& base, std::vector<ProcessMatch> matches);
  void Collect(SampleSink& sink);

 private:
  struct Stat {
    double utime_ticks = 0, stime_ticks = 0, threads = 0, start_ticks = 0, vsize_bytes = 0,
           rss_pages = 0;
  };
  struct Found {
    size_t match;
    int pid;
    Stat stat;
  };

  void FindByPidFile(size_t match);
  void FindByComm();
  bool ReadStat(int pid, std::string_view* comm, Stat* stat);
  void AddProcess(const Found& found, SampleSink& sink);
  double OpenFds(int pid);
  bool MaxFds(int pid, double* max);

  std::string proc_;
  Labels base_;
  std::vector<ProcessMatch> matches_;
  bool any_comm_ = false;
  double boot_time_seconds_ = 0;
  double ticks_per_second_, page_bytes_;
  // Processes whose comm matched no name, so a scan need not read them again: re-read once on
  // the collection after their first sighting (a fork seen before its exec), then only every
  // 30 collections (a later exec), and forgotten when they exit.
  struct Unmatched {
    uint64_t seen = 0;
    bool young = true;
  };
  std::unordered_map<int, Unmatched> unmatched_;
  uint64_t scans_ = 0;
  std::vector<Found> found_;    // this collection's processes; capacity reused
  std::vector<double> counts_;  // per match
  std::vector<Labels> count_series_;
  std::string buffer_, path_;
  SeriesTable processes_;
};

}  // namespace crmscope::agent::host
