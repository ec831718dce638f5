// node_exporter's collectors for what the agent needs, each reading its /proc file into a buffer
// it keeps and adding its series to the sink.
#pragma once

#include <memory>
#include <string>

#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent::host {

class NodeCollector {
 public:
  virtual ~NodeCollector() = default;
  virtual void Collect(SampleSink& sink) = 0;
};

// /proc/stat feeds two node_exporter collectors, "cpu" and "stat"; one read serves both.
std::unique_ptr<NodeCollector> MakeStatCollector(const std::string& proc, const Labels& base,
                                                 bool cpu, bool stat);
std::unique_ptr<NodeCollector> MakeLoadavgCollector(const std::string& proc, const Labels& base);
std::unique_ptr<NodeCollector> MakeMeminfoCollector(const std::string& proc, const Labels& base);
// `exclude`: an RE2 pattern; matching devices are left out.
std::unique_ptr<NodeCollector> MakeDiskstatsCollector(const std::string& proc, const Labels& base,
                                                      const std::string& exclude);
std::unique_ptr<NodeCollector> MakeNetdevCollector(const std::string& proc, const Labels& base,
                                                   const std::string& exclude);
std::unique_ptr<NodeCollector> MakeFilesystemCollector(const std::string& proc, const Labels& base,
                                                       const std::string& mount_points_exclude,
                                                       const std::string& fs_types_exclude);

}  // namespace crmscope::agent::host
