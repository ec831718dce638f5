// nginx's stub_status page (ngx_http_stub_status_module) as the series nginx-prometheus-exporter
// makes of it, with its names, types and help strings, so its dashboards and alerts apply:
//
//   nginx_up                       1 when the last fetch and parse succeeded, else 0 (then alone)
//   nginx_connections_active       gauge    "Active connections"
//   nginx_connections_accepted     counter  "accepts"
//   nginx_connections_handled      counter  "handled"
//   nginx_connections_reading      gauge    "Reading"
//   nginx_connections_writing      gauge    "Writing"
//   nginx_connections_waiting      gauge    "Waiting"
//   nginx_http_requests_total      counter  "requests"
//
// Every series carries job (default "nginx") and instance (the URL's host:port, as Prometheus
// names a scrape target), then the configured constant labels, which may override both.
//
// Config (one item of `sources: stub_status:`):
//   url: http://127.0.0.1:8080/stub_status   # required
//   timeout: 5s          # per fetch; default 5s, or the interval when shorter
//   interval: 1s                             # default: the global interval
//   job: nginx
//   labels: {role: proxy}
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent {

struct StubStatusConfig {
  std::string url;
  std::string job = "nginx";
  Labels labels;            // constant labels added to every series (sorted)
  int64_t timeout_ms = 0;   // 0: 5 s, or the interval when shorter
  int64_t interval_ms = 0;  // 0 = global interval
};

// Errors are "LINE:COL: message". Unknown keys are errors.
bool ParseStubStatusConfig(const YAML::Node& item, StubStatusConfig* out, std::string* error);
std::unique_ptr<Source> MakeStubStatusSource(const StubStatusConfig& config);

// The page's seven numbers. Exposed for tests.
struct StubStatus {
  double active = 0, accepted = 0, handled = 0, requests = 0, reading = 0, writing = 0, waiting = 0;
};
// Parses the page nginx writes:
//   Active connections: 1
//   server accepts handled requests
//    219 219 515
//   Reading: 0 Writing: 1 Waiting: 0
bool ParseStubStatusPage(std::string_view page, StubStatus* out);

}  // namespace crmscope::agent
