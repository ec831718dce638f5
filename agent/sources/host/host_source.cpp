#include "agent/sources/host/host_source.h"

#include <unistd.h>

#include <algorithm>

#include "agent/sources/host/node_collectors.h"
#include "agent/sources/host/process_stats.h"

namespace crmscope::agent {

namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

class HostSource final : public Source {
 public:
  explicit HostSource(const HostConfig& config) {
    Labels base = {{"instance", HostName()}, {"job", config.job}};
    for (const Label& label : config.labels) {
      std::erase_if(base, [&](const Label& l) { return l.name == label.name; });
      base.push_back(label);
    }
    SortLabels(base);
    auto on = [&](std::string_view name) {
      return std::find(config.collectors.begin(), config.collectors.end(), name) !=
             config.collectors.end();
    };
    const std::string& proc = config.proc_path;
    if (on("cpu") || on("stat")) {
      collectors_.push_back(host::MakeStatCollector(proc, base, on("cpu"), on("stat")));
    }
    if (on("loadavg")) collectors_.push_back(host::MakeLoadavgCollector(proc, base));
    if (on("meminfo")) collectors_.push_back(host::MakeMeminfoCollector(proc, base));
    if (on("diskstats")) {
      collectors_.push_back(host::MakeDiskstatsCollector(proc, base, config.disk_device_exclude));
    }
    if (on("netdev")) {
      collectors_.push_back(host::MakeNetdevCollector(proc, base, config.network_device_exclude));
    }
    if (on("filesystem")) {
      collectors_.push_back(host::MakeFilesystemCollector(proc, base, config.mount_points_exclude,
                                                          config.fs_types_exclude));
    }
    if (!config.processes.empty()) {
      processes_ = std::make_unique<host::ProcessStats>(proc, base, config.processes);
    }
  }

  std::string_view name() const override { return "host"; }

  void Collect(TimestampMs, SampleSink& sink) override {
    for (const auto& collector : collectors_) collector->Collect(sink);
    if (processes_) processes_->Collect(sink);
  }

 private:
  std::vector<std::unique_ptr<host::NodeCollector>> collectors_;
  std::unique_ptr<host::ProcessStats> processes_;
};

}  // namespace

std::unique_ptr<Source> MakeHostSource(const HostConfig& config) {
  return std::make_unique<HostSource>(config);
}

}  // namespace crmscope::agent
