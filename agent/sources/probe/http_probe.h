// HTTP probes (availability) as blackbox_exporter's http prober reports them, with its names,
// types and help strings, so its dashboards and alerts apply. One probe is one request, on a
// fresh connection with a fresh DNS lookup as blackbox_exporter makes it, every interval:
//
//   probe_success                     1 when the status is valid and the body regexps agree
//   probe_duration_seconds            the whole probe, wall clock
//   probe_http_status_code            0 when no response came
//   probe_http_content_length         Content-Length, -1 when the response had none
//   probe_http_uncompressed_body_length   bytes of body received
//   probe_http_duration_seconds{phase="resolve|connect|tls|processing|transfer"}
//                                     libcurl's timings split as blackbox_exporter splits its
//                                     trace (tls counts from the end of resolve, as there)
//   probe_http_redirects, probe_http_ssl, probe_http_version, probe_failed_due_to_regex,
//   probe_dns_lookup_time_seconds, probe_ip_protocol, probe_ip_addr_hash,
//   probe_http_last_modified_timestamp_seconds (only when the response has Last-Modified)
//
// Labels: instance=<url>, job=<name> (as a Prometheus scraping blackbox_exporter with the usual
// relabelling shows them), then the configured constant labels.
//
// Config (one item of `sources: probes:`):
//   name: crm-node-1-health          # the job label (default "blackbox")
//   url: http://127.0.0.1:8081/healthz
//   method: GET
//   headers: {Host: crm.example}
//   body: ''
//   valid_status_codes: [200, 204]   # default: any 2xx
//   fail_if_body_matches_regexp: ['maintenance']        # RE2, unanchored, as Go's regexp
//   fail_if_body_not_matches_regexp: ['"status":"ok"']
//   no_follow_redirects: false       # blackbox_exporter follows up to 10
//   body_size_limit: 1MB             # a larger body fails the probe; default no limit
//   timeout: 5s                      # default 5s, or the interval when shorter
//   interval: 1s                     # default: the global interval
//   labels: {node: node1}
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent {

struct ProbeConfig {
  std::string name = "blackbox";
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<int> valid_status_codes;  // empty: 200-299
  std::vector<std::string> fail_if_body_matches_regexp;
  std::vector<std::string> fail_if_body_not_matches_regexp;
  bool no_follow_redirects = false;
  int64_t body_size_limit = 0;  // bytes; 0: no limit
  Labels labels;                // constant labels added to every series (sorted)
  int64_t timeout_ms = 0;       // 0: 5 s, or the interval when shorter
  int64_t interval_ms = 0;      // 0 = global interval
};

// Errors are "LINE:COL: message" (regexps are compiled here). Unknown keys are errors.
bool ParseProbeConfig(const YAML::Node& item, ProbeConfig* out, std::string* error);
// `config` must have passed ParseProbeConfig or hold valid regexps.
std::unique_ptr<Source> MakeProbeSource(const ProbeConfig& config);

}  // namespace crmscope::agent
