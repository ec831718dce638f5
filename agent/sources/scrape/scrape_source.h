// The `scrape` source: Prometheus's scrape of static targets, one source per scrape config (job).
//
// Every collection fetches /metrics from each target of the job at once (libcurl, one kept-alive
// connection per target, gzip accepted, the Accept header Prometheus 2.42 sends), each bounded
// by scrape_timeout, and adds to the sink what Prometheus would store:
//  - every sample, labelled with job, instance (host:port) and the static labels, conflicts
//    resolved by honor_labels, then passed through metric_relabel_configs;
//  - a stale NaN, once, for each series that disappeared since the previous scrape, or for all
//    of them when the target stops answering;
//  - per target: up, scrape_duration_seconds, scrape_samples_scraped,
//    scrape_samples_post_metric_relabeling and scrape_series_added.
// The text format 0.0.4 and OpenMetrics 1.0 are read, chosen by the response's Content-Type.
//
// Configured with Prometheus's scrape_config keys:
//   scrape:
//     - job_name: crm-node
//       scrape_interval: 15s          # default: the agent's global interval
//       scrape_timeout: 10s           # default: 10s, or the interval when shorter
//       metrics_path: /metrics
//       scheme: http                  # or https
//       params: {module: [http_2xx]}
//       honor_labels: false
//       honor_timestamps: true
//       bearer_token: secret          # or bearer_token_file: /path (read at every scrape)
//       static_configs:
//         - targets: ['127.0.0.1:9100']
//           labels: {node: node1}
//       metric_relabel_configs: [ ... ]   # see relabel.h
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/sources/scrape/relabel.h"
#include "agent/sources/source.h"
#include "common/labels.h"

namespace YAML {
class Node;
}

namespace crmscope::agent {

struct ScrapeStaticConfig {
  std::vector<std::string> targets;  // host:port, as Prometheus takes them
  Labels labels;                     // sorted
};

struct ScrapeConfig {
  std::string job_name;
  int64_t interval_ms = 0;  // scrape_interval; 0 = the global interval
  int64_t timeout_ms = 0;   // scrape_timeout; 0 = see EffectiveScrapeTimeoutMs
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::vector<std::string>>> params;  // URL query
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<ScrapeStaticConfig> static_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  std::string bearer_token;
  std::string bearer_token_file;  // read at every scrape, as Prometheus does, so it can rotate
};

// One `scrape:` list item. Errors are "LINE:COL: message"; unknown keys are errors.
bool ParseScrapeConfig(const YAML::Node& item, ScrapeConfig* out, std::string* error);

// As Prometheus: scrape_timeout when set, else 10s, capped at the interval when that is shorter.
// The core should set interval_ms to the global interval before making the source.
int64_t EffectiveScrapeTimeoutMs(const ScrapeConfig& config);

// How a target's last scrape went, for the agent's own metrics and logs.
struct ScrapeTargetHealth {
  std::string instance;  // the instance label
  std::string url;
  bool up = false;
  std::string last_error;  // "" while up
  double last_duration_seconds = 0;
  size_t last_samples_scraped = 0;
};

class ScrapeSource : public Source {
 public:
  // Safe to call from any thread, also during Collect.
  virtual std::vector<ScrapeTargetHealth> TargetHealth() const = 0;
};

// nullptr when `config` is invalid, which only a config built by hand can be (bad regex, target
// or label name): ParseScrapeConfig checks everything this needs.
std::unique_ptr<ScrapeSource> MakeScrapeSource(const ScrapeConfig& config);

}  // namespace crmscope::agent
