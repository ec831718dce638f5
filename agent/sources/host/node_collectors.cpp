#include "agent/sources/host/node_collectors.h"

#include <re2/re2.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>

#include "agent/sources/host/proc_file.h"
#include "agent/sources/host/series_table.h"

namespace crmscope::agent::host {

namespace {

constexpr MetricKind kCounter = MetricKind::kCounter, kGauge = MetricKind::kGauge;

// --- /proc/stat: node_exporter's "cpu" and "stat" collectors ----------------------------------

// The columns after "cpuN"; guest and guest_nice are also counted in user and nice, which is why
// node_exporter reports them apart.
constexpr std::array<std::string_view, 8> kCpuModes = {"user",   "nice", "system",  "idle",
                                                       "iowait", "irq",  "softirq", "steal"};
constexpr std::array<std::string_view, 2> kGuestModes = {"user", "nice"};

struct StatLine {
  std::string_view key;  // first field of the /proc/stat line
  std::string_view family;
  MetricKind kind;
  std::string_view help;
};
constexpr std::array<StatLine, 6> kStatLines = {{
    {"btime", "node_boot_time_seconds", kGauge, "Node boot time, in unixtime."},
    {"ctxt", "node_context_switches_total", kCounter, "Total number of context switches."},
    {"processes", "node_forks_total", kCounter, "Total number of forks."},
    {"intr", "node_intr_total", kCounter, "Total number of interrupts serviced."},
    {"procs_running", "node_procs_running", kGauge, "Number of processes in runnable state."},
    {"procs_blocked", "node_procs_blocked", kGauge,
     "Number of processes blocked waiting for I/O to complete."},
}};

class StatCollector final : public NodeCollector {
 public:
  StatCollector(const std::string& proc, const Labels& base, bool cpu, bool stat)
      : path_(proc + "/stat"),
        base_(base),
        cpu_(cpu),
        stat_(stat),
        ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))) {
    for (size_t i = 0; i < kStatLines.size(); ++i) {
      stat_series_[i] = SeriesLabels(base, kStatLines[i].family);
    }
  }

  void Collect(SampleSink& sink) override {
    if (!ReadProcFile(path_.c_str(), &buffer_)) return;
    if (cpu_) {
      sink.Describe("node_cpu_seconds_total", kCounter, "Seconds the CPUs spent in each mode.", "");
      sink.Describe("node_cpu_guest_seconds_total", kCounter,
                    "Seconds the CPUs spent in guests (VMs) for each mode.", "");
      cpus_.StartCollection();
    }
    std::string_view text = buffer_, line;
    while (NextLine(&text, &line)) {
      std::string_view key = NextField(&line);
      if (key.starts_with("cpu")) {
        if (cpu_ && key.size() > 3) AddCpu(key.substr(3), line, sink);
      } else if (stat_) {
        AddStat(key, line, sink);
      }
    }
    if (cpu_) cpus_.DropUnseen();
  }

 private:
  void AddCpu(std::string_view cpu, std::string_view values, SampleSink& sink) {
    SeriesTable::Row& row = cpus_.Find(cpu, [&](SeriesTable::Row& r) {
      for (std::string_view mode : kCpuModes) {
        r.series.push_back(
            SeriesLabels(base_, "node_cpu_seconds_total", {{"cpu", cpu}, {"mode", mode}}));
      }
      for (std::string_view mode : kGuestModes) {
        r.series.push_back(
            SeriesLabels(base_, "node_cpu_guest_seconds_total", {{"cpu", cpu}, {"mode", mode}}));
      }
    });
    for (size_t i = 0; i < row.series.size(); ++i) {
      uint64_t ticks = 0;
      if (!ParseUint(NextField(&values), &ticks)) break;  // older kernels have fewer columns
      sink.Add(row.series[i], static_cast<double>(ticks) / ticks_per_second_);
    }
  }

  void AddStat(std::string_view key, std::string_view values, SampleSink& sink) {
    for (size_t i = 0; i < kStatLines.size(); ++i) {
      if (kStatLines[i].key != key) continue;
      uint64_t value = 0;
      if (!ParseUint(NextField(&values), &value)) return;  // intr: the total comes first
      sink.Describe(kStatLines[i].family, kStatLines[i].kind, kStatLines[i].help, "");
      sink.Add(stat_series_[i], static_cast<double>(value));
      return;
    }
  }

  std::string path_;
  Labels base_;
  bool cpu_, stat_;
  double ticks_per_second_;
  std::string buffer_;
  SeriesTable cpus_;
  std::array<Labels, kStatLines.size()> stat_series_;
};

// --- /proc/loadavg ----------------------------------------------------------------------------

class LoadavgCollector final : public NodeCollector {
 public:
  LoadavgCollector(const std::string& proc, const Labels& base) : path_(proc + "/loadavg") {
    for (size_t i = 0; i < 3; ++i) series_[i] = SeriesLabels(base, kFamilies[i]);
  }

  void Collect(SampleSink& sink) override {
    if (!ReadProcFile(path_.c_str(), &buffer_)) return;
    std::string_view text = buffer_;
    for (size_t i = 0; i < 3; ++i) {
      double value = 0;
      if (!ParseDouble(NextField(&text), &value)) return;
      sink.Describe(kFamilies[i], kGauge, kHelps[i], "");
      sink.Add(series_[i], value);
    }
  }

 private:
  static constexpr std::array<std::string_view, 3> kFamilies = {"node_load1", "node_load5",
                                                                "node_load15"};
  static constexpr std::array<std::string_view, 3> kHelps = {"1m load average.", "5m load average.",
                                                             "15m load average."};
  std::string path_;
  std::string buffer_;
  std::array<Labels, 3> series_;
};

// --- /proc/meminfo ----------------------------------------------------------------------------

class MeminfoCollector final : public NodeCollector {
 public:
  MeminfoCollector(const std::string& proc, const Labels& base)
      : path_(proc + "/meminfo"), base_(base) {}

  void Collect(SampleSink& sink) override {
    if (!ReadProcFile(path_.c_str(), &buffer_)) return;
    fields_.StartCollection();
    std::string_view text = buffer_, line;
    while (NextLine(&text, &line)) {
      std::string_view name = NextField(&line);
      uint64_t value = 0;
      if (!name.ends_with(':') || !ParseUint(NextField(&line), &value)) continue;
      name.remove_suffix(1);
      bool kilobytes = NextField(&line) == "kB";
      SeriesTable::Row& row = fields_.Find(name, [&](SeriesTable::Row& r) {
        // node_exporter's names: "Active(anon)" is node_memory_Active_anon_bytes.
        std::string field;
        for (char c : name) {
          if (c == '(')
            field.push_back('_');
          else if (c != ')')
            field.push_back(c);
        }
        if (kilobytes) field += "_bytes";
        r.families = {"node_memory_" + field, "Memory information field " + field + "."};
        r.series.push_back(SeriesLabels(base_, r.families[0]));
      });
      sink.Describe(row.families[0], kGauge, row.families[1], "");
      sink.Add(row.series[0], static_cast<double>(value) * (kilobytes ? 1024 : 1));
    }
    fields_.DropUnseen();
  }

 private:
  std::string path_;
  Labels base_;
  std::string buffer_;
  SeriesTable fields_;
};

// --- /proc/diskstats and /proc/net/dev: one row per device -------------------------------------

struct Column {
  std::string_view family;
  MetricKind kind;
  double scale;  // sectors are 512 bytes whatever the device's; times are milliseconds
  std::string_view help;
};

// Documentation/admin-guide/iostats.rst, in order after the device name.
constexpr std::array<Column, 17> kDiskColumns = {{
    {"node_disk_reads_completed_total", kCounter, 1,
     "The total number of reads completed successfully."},
    {"node_disk_reads_merged_total", kCounter, 1, "The total number of reads merged."},
    {"node_disk_read_bytes_total", kCounter, 512, "The total number of bytes read successfully."},
    {"node_disk_read_time_seconds_total", kCounter, 0.001,
     "The total number of seconds spent by all reads."},
    {"node_disk_writes_completed_total", kCounter, 1,
     "The total number of writes completed successfully."},
    {"node_disk_writes_merged_total", kCounter, 1, "The number of writes merged."},
    {"node_disk_written_bytes_total", kCounter, 512,
     "The total number of bytes written successfully."},
    {"node_disk_write_time_seconds_total", kCounter, 0.001,
     "This is the total number of seconds spent by all writes."},
    {"node_disk_io_now", kGauge, 1, "The number of I/Os currently in progress."},
    {"node_disk_io_time_seconds_total", kCounter, 0.001, "Total seconds spent doing I/Os."},
    {"node_disk_io_time_weighted_seconds_total", kCounter, 0.001,
     "The weighted # of seconds spent doing I/Os."},
    {"node_disk_discards_completed_total", kCounter, 1,
     "The total number of discards completed successfully."},
    {"node_disk_discards_merged_total", kCounter, 1, "The total number of discards merged."},
    {"node_disk_discarded_sectors_total", kCounter, 1,
     "The total number of sectors discarded successfully."},
    {"node_disk_discard_time_seconds_total", kCounter, 0.001,
     "This is the total number of seconds spent by all discards."},
    {"node_disk_flush_requests_total", kCounter, 1,
     "The total number of flush requests completed successfully"},
    {"node_disk_flush_requests_time_seconds_total", kCounter, 0.001,
     "This is the total number of seconds spent by all flush requests."},
}};

class DeviceTableCollector : public NodeCollector {
 public:
  DeviceTableCollector(std::string path, const Labels& base, const std::string& exclude,
                       std::vector<Column> columns)
      : path_(std::move(path)), base_(base), exclude_(exclude), columns_(std::move(columns)) {}

  void Collect(SampleSink& sink) override {
    if (!ReadProcFile(path_.c_str(), &buffer_)) return;
    for (const Column& c : columns_) sink.Describe(c.family, c.kind, c.help, "");
    devices_.StartCollection();
    std::string_view text = buffer_, line;
    std::string_view device;
    while (NextLine(&text, &line)) {
      if (!SplitDevice(&line, &device)) continue;
      SeriesTable::Row& row = devices_.Find(device, [&](SeriesTable::Row& r) {
        r.skipped = RE2::PartialMatch(device, exclude_);
        if (r.skipped) return;
        for (const Column& c : columns_) {
          r.series.push_back(SeriesLabels(base_, c.family, {{"device", device}}));
        }
      });
      if (row.skipped) continue;
      for (size_t i = 0; i < row.series.size(); ++i) {
        uint64_t value = 0;
        if (!ParseUint(NextField(&line), &value)) break;  // older kernels have fewer columns
        sink.Add(row.series[i], static_cast<double>(value) * columns_[i].scale);
      }
    }
    devices_.DropUnseen();
  }

 protected:
  // Finds the device name of a line and leaves `line` at its first value.
  virtual bool SplitDevice(std::string_view* line, std::string_view* device) const = 0;

 private:
  std::string path_;
  Labels base_;
  RE2 exclude_;
  std::vector<Column> columns_;
  std::string buffer_;
  SeriesTable devices_;
};

class DiskstatsCollector final : public DeviceTableCollector {
 public:
  DiskstatsCollector(const std::string& proc, const Labels& base, const std::string& exclude)
      : DeviceTableCollector(proc + "/diskstats", base, exclude,
                             {kDiskColumns.begin(), kDiskColumns.end()}) {}

 protected:
  bool SplitDevice(std::string_view* line, std::string_view* device) const override {
    NextField(line);  // major
    NextField(line);  // minor
    *device = NextField(line);
    return !device->empty();
  }
};

std::vector<Column> NetdevColumns() {
  // Family names and help strings are data here, so they live in static storage.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (std::string_view dir : {"receive", "transmit"}) {
      bool rx = dir == "receive";
      for (std::string_view stat :
           {"bytes", "packets", "errs", "drop", "fifo", rx ? "frame" : "colls",
            rx ? "compressed" : "carrier", rx ? "multicast" : "compressed"}) {
        std::string key = std::string(dir) + "_" + std::string(stat);
        out.push_back("node_network_" + key + "_total");
        out.push_back("Network device statistic " + key + ".");
      }
    }
    return out;
  }();
  std::vector<Column> columns;
  for (size_t i = 0; i < names.size(); i += 2) {
    columns.push_back({names[i], kCounter, 1, names[i + 1]});
  }
  return columns;
}

class NetdevCollector final : public DeviceTableCollector {
 public:
  NetdevCollector(const std::string& proc, const Labels& base, const std::string& exclude)
      : DeviceTableCollector(proc + "/net/dev", base, exclude, NetdevColumns()) {}

 protected:
  // "  eth0: 382571909 10134 0 ..." after two header lines, which have no colon before a '|'.
  bool SplitDevice(std::string_view* line, std::string_view* device) const override {
    size_t colon = line->find(':');
    if (colon == std::string_view::npos || line->find('|') != std::string_view::npos) return false;
    std::string_view name = line->substr(0, colon);
    name.remove_prefix(std::min(name.size(), name.find_first_not_of(' ')));
    *device = name;
    line->remove_prefix(colon + 1);
    return !device->empty();
  }
};

}  // namespace

std::unique_ptr<NodeCollector> MakeStatCollector(const std::string& proc, const Labels& base,
                                                 bool cpu, bool stat) {
  return std::make_unique<StatCollector>(proc, base, cpu, stat);
}

std::unique_ptr<NodeCollector> MakeLoadavgCollector(const std::string& proc, const Labels& base) {
  return std::make_unique<LoadavgCollector>(proc, base);
}

std::unique_ptr<NodeCollector> MakeMeminfoCollector(const std::string& proc, const Labels& base) {
  return std::make_unique<MeminfoCollector>(proc, base);
}

std::unique_ptr<NodeCollector> MakeDiskstatsCollector(const std::string& proc, const Labels& base,
                                                      const std::string& exclude) {
  return std::make_unique<DiskstatsCollector>(proc, base, exclude);
}

std::unique_ptr<NodeCollector> MakeNetdevCollector(const std::string& proc, const Labels& base,
                                                   const std::string& exclude) {
  return std::make_unique<NetdevCollector>(proc, base, exclude);
}

}  // namespace crmscope::agent::host
