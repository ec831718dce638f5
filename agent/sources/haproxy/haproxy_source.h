// HAProxy's statistics as the series HAProxy's own Prometheus exporter (promex, the
// "prometheus-exporter" service built into HAProxy ≥ 2.0) writes: the same names, types, help
// strings and labels (`proxy`, and `server` for servers), so dashboards made for promex apply.
// The stats come as CSV from the stats page or the stats socket, read by column name.
//
//   haproxy_server_current_queue, _current_sessions, _max_sessions, _sessions_total,
//     _bytes_in_total, _bytes_out_total, _connection_errors_total, _response_errors_total,
//     _retry_warnings_total, _redispatch_warnings_total, _weight, _uweight,
//     _check_failures_total, _check_up_down_total, _downtime_seconds_total,
//     _loadbalanced_total, _client_aborts_total, _server_aborts_total,
//     _queue/_connect/_response/_total_time_average_seconds (HAProxy's ms, here seconds),
//     _max_queue/_connect/_response/_total_time_seconds, _connection_attempts_total, ...
//   haproxy_server_http_responses_total{code="1xx".."5xx"|"other"}
//   haproxy_server_status{state="DOWN|UP|MAINT|DRAIN|NOLB"}    1 for the current state, as promex
//   haproxy_backend_* and haproxy_frontend_* likewise (backend/frontend status: DOWN|UP)
//   haproxy_up   1 when the last fetch and parse succeeded, else 0 (then alone); the name
//                Prometheus's haproxy_exporter gives it.
//
// The *_time_average_seconds are the CSV's averages over the connections seen so far (at most
// 1024); HAProxy 2.6's promex divides by 1024 from the first connection on, so it shows less
// until 1024 connections have been made, then the same.
// A field HAProxy leaves empty (no health check, tcp mode's HTTP counters) gives no sample,
// where promex writes NaN. Every series also carries job (default "haproxy") and instance (the
// URL's host:port or the socket path), then the configured constant labels.
//
// Config (one item of `sources: haproxy:`), exactly one of url and socket:
//   url: 'http://127.0.0.1:8404/stats;csv'    # ";csv" is appended when missing
//   socket: /run/haproxy/admin.sock           # runs "show stat"
//   timeout: 5s                               # default 5s, or the interval when shorter
//   interval: 1s                              # default: the global interval
//   job: haproxy
//   labels: {site: a}
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>

#include "agent/sources/haproxy/stats_fetch.h"
#include "agent/sources/source.h"
#include "common/labels.h"

namespace crmscope::agent {

struct HaproxyConfig {
  std::string url;     // the stats page's CSV, or
  std::string socket;  // the stats socket
  std::string job = "haproxy";
  Labels labels;            // constant labels added to every series (sorted)
  int64_t timeout_ms = 0;   // 0: 5 s, or the interval when shorter
  int64_t interval_ms = 0;  // 0 = global interval
};

// Errors are "LINE:COL: message". Unknown keys are errors.
bool ParseHaproxyConfig(const YAML::Node& item, HaproxyConfig* out, std::string* error);
std::unique_ptr<Source> MakeHaproxySource(const HaproxyConfig& config);
// The same source reading from `fetcher` (tests feed it captured CSV).
std::unique_ptr<Source> MakeHaproxySource(const HaproxyConfig& config,
                                          std::unique_ptr<StatsFetcher> fetcher);

}  // namespace crmscope::agent
