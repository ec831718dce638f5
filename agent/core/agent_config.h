// The agent's configuration file (--config.file, YAML), in the shape Prometheus users know:
//
//   global:
//     interval: 15s                  # each source's collection interval unless it sets its own
//     external_labels: {host: crm1}  # added to every series shipped (not to /metrics)
//     expose_series: false           # also serve every derived series on the agent's /metrics
//   sources:
//     nginx_log: [...]  stub_status: [...]  haproxy: [...]  scrape: [...]  probes: [...]
//     host: {...}
//   remote_write:
//     - url: http://127.0.0.1:9300/api/v1/write
//       ...
//
// Each source section is parsed by its module (agent/sources/<module>); errors name the file,
// line and column ("agent.yml:12:5: unknown key \"pathh\" in nginx_log"), and unknown keys are
// errors, as in Prometheus's strict configuration loading.
#pragma once

#include <string>
#include <vector>

#include "agent/core/collection_loop.h"
#include "common/labels.h"
#include "exporters/remote_write/queue_sender.h"

namespace crmscope::agent {

class NginxLogSource;

struct AgentConfig {
  int64_t interval_ms = 15'000;
  Labels external_labels;
  bool expose_series = false;
  std::vector<ScheduledSource> sources;
  std::vector<const NginxLogSource*> log_sources;  // owned by `sources`, for line counts
  std::vector<remote_write::QueueSenderConfig> remote_write;
};

// Reads and validates `path`. On failure returns false with *error naming the file and line.
bool LoadAgentConfig(const std::string& path, AgentConfig* config, std::string* error);
// The same from text (tests); `name` stands for the file in errors.
bool ParseAgentConfig(const std::string& text, const std::string& name, AgentConfig* config,
                      std::string* error);

}  // namespace crmscope::agent
