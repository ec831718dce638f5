// The nginx access-log source: tails one access log and turns each request into the
// crmscope_proxy_* series (see proxy_metrics.h for the families and their labels).
//
// Config, one item of `sources: nginx_log:` in the agent's YAML:
//
//   path: /var/log/nginx/access.log                       # required
//   log_format: '$msec\t$request_method\t$uri ...'         # required, as in nginx.conf
//   route_rules:                                           # tried in order, first match wins
//     - {regex: '/api/v[0-9]+/customers/[^/]+', template: '/api/vN/customers/{id}'}
//   request_buckets: [0.005, 0.01, 0.025, ...]             # $request_time histogram, seconds
//   upstream_buckets: [0.005, 0.01, ...]                   # per-attempt upstream histograms
//   max_routes: 200                                        # more distinct routes -> "other"
//   interval: 1s                                           # default: global interval
//
// The log is read from its end when the agent starts (earlier lines predate the counters), and
// from the start for a file that appears or replaces it later. A collection reads at most
// kMaxBytesPerCollect, so a backlog is worked off over several intervals instead of overrunning
// one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/nginx_log/log_tailer.h"
#include "agent/sources/nginx_log/proxy_metrics.h"
#include "agent/sources/nginx_log/route_template.h"
#include "agent/sources/source.h"

namespace YAML {
class Node;
}

namespace crmscope::agent {

struct NginxLogConfig {
  std::string path;
  std::string log_format;
  std::vector<nginx_log::RouteRule> route_rules;
  std::vector<double> request_buckets = nginx_log::DefaultDurationBuckets();
  std::vector<double> upstream_buckets = nginx_log::DefaultDurationBuckets();
  size_t max_routes = 200;
  int64_t interval_ms = 0;  // 0 = global interval
};

// Errors are "LINE:COL: message" (1-based, from node.Mark()); unknown keys are errors. The
// log_format and route rules are compiled here, so a config that parses makes a source.
bool ParseNginxLogConfig(const YAML::Node& item, NginxLogConfig* out, std::string* error);

class NginxLogSource final : public Source {
 public:
  static constexpr size_t kMaxBytesPerCollect = 64 * 1024 * 1024;

  NginxLogSource(const NginxLogConfig& config, nginx_log::LogFormat format,
                 nginx_log::RouteTemplater templater, nginx_log::LogTailer::Start start);

  std::string_view name() const override { return name_; }
  void Collect(TimestampMs now, SampleSink& sink) override;

  // For the agent's own /metrics (crmscope_agent_log_lines_parsed_total and
  // _rejected_total); readable from any thread while another collects.
  uint64_t lines_parsed() const { return lines_parsed_.load(std::memory_order_relaxed); }
  uint64_t lines_rejected() const { return lines_rejected_.load(std::memory_order_relaxed); }

 private:
  class LineCounter;

  std::string name_;
  nginx_log::LogTailer tailer_;
  nginx_log::ProxyMetrics metrics_;
  std::atomic<uint64_t> lines_parsed_{0}, lines_rejected_{0};
};

// Null when the config's log_format or route rules do not compile (ParseNginxLogConfig has
// already refused such a config).
std::unique_ptr<NginxLogSource> MakeNginxLogSource(const NginxLogConfig& config);
// The same, reading the log from its start: for tests and replays.
std::unique_ptr<NginxLogSource> MakeNginxLogSourceFromStart(const NginxLogConfig& config);

}  // namespace crmscope::agent
