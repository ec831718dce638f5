// The series derived from nginx access-log lines, kept cumulative like an exporter's counters:
//
//   crmscope_proxy_requests_total{upstream,route,method,status}            counter
//       each request once; upstream = the server that gave the final answer (the last item of
//       $upstream_addr), status = nginx's $status
//   crmscope_proxy_request_duration_seconds{upstream,route,method}          histogram,
//   $request_time crmscope_proxy_response_bytes_total{upstream,route,method}              counter,
//       $body_bytes_sent (else $bytes_sent, which includes the response head)
//   crmscope_proxy_stage_duration_seconds{upstream,route,method,stage}      summary (_sum, _count)
//       from the upstream's Server-Timing header ($upstream_http_server_timing), dur in ms
//   crmscope_proxy_upstream_attempts_total{upstream,status}                 counter
//       each attempt of the $upstream_* lists once, status = that attempt's $upstream_status
//   crmscope_proxy_upstream_response_duration_seconds{upstream}             histogram per attempt
//   crmscope_proxy_upstream_connect_duration_seconds{upstream}              histogram per attempt
//   crmscope_proxy_upstream_header_duration_seconds{upstream}               histogram per attempt
//
// Connect and header times are histograms rather than sums: a slow TCP handshake to one node and
// a slow first byte are different faults, and only a distribution separates a few very slow
// attempts from many slightly slow ones. A family is emitted only when the format carries the
// variables it needs; a label whose value is "-" (a request nginx answered itself has no
// upstream) is left out of the series, as Prometheus treats an empty label as absent.
//
// Cardinality is bounded: at most max_routes distinct routes (then route="other"), 64 upstream
// addresses, 16 Server-Timing stage names, the request methods of RFC 9110 plus "other", and
// three-digit statuses. Per line the work is a match of the compiled format, a scan of the path
// and hash lookups of small integer keys: once a line's series exist, it allocates nothing.
//
// Not thread-safe: the owning source parses and emits from one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/sources/nginx_log/log_format.h"
#include "agent/sources/nginx_log/route_template.h"
#include "agent/sources/source.h"

namespace crmscope::agent::nginx_log {

// 1 ms .. 10 s, the buckets crm-node's own http_request_duration_seconds uses, so the proxy's
// view and the node's line up bucket for bucket.
std::vector<double> DefaultDurationBuckets();

struct ProxyMetricsOptions {
  std::vector<double> request_buckets = DefaultDurationBuckets();
  std::vector<double> upstream_buckets = DefaultDurationBuckets();
  size_t max_routes = 200;
};

// Interned label values: a value's id is its index; ids are small and stable.
class LabelValueTable {
 public:
  // `reserved` values take ids 0, 1, ...; a table full at `capacity` answers `overflow_id`.
  LabelValueTable(std::vector<std::string> reserved, size_t capacity, uint32_t overflow_id);
  uint32_t Intern(std::string_view value);
  std::string_view operator[](uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
  std::vector<std::string> values_;
  size_t capacity_;
  uint32_t overflow_id_;
};

struct StatusCount {
  uint16_t status;  // 0: none (an attempt without $upstream_status, a format without $status)
  uint64_t count;
};

struct Histogram {
  std::vector<uint64_t> counts;  // per bucket, not cumulative; the last is +Inf
  double sum = 0;
  uint64_t count = 0;
  void Observe(const std::vector<double>& bounds, double value);
};

class ProxyMetrics {
 public:
  ProxyMetrics(LogFormat format, RouteTemplater templater, ProxyMetricsOptions options);

  // Parses one line (without its newline) into the series. False, with a short reason, for a
  // line that does not follow the format or whose $status is not a status.
  bool AddLine(std::string_view line, std::string_view* reason);

  // Every series, cumulative since construction, family by family.
  void Emit(SampleSink& sink);

 private:
  struct StageTotal {
    uint32_t stage;
    double sum;
    uint64_t count;
  };
  struct RouteSeries {  // one (upstream, route, method)
    uint32_t upstream, route;
    uint8_t method;
    std::vector<StatusCount> statuses;
    Histogram duration;
    double bytes = 0;
    std::vector<StageTotal> stages;
  };
  struct UpstreamSeries {
    std::vector<StatusCount> attempts;
    Histogram response, connect, header;
  };
  struct LineValues;

  bool ReadLine(const LogFields& fields, LineValues* values, std::string_view* reason);
  uint32_t RouteId(const LogFields& fields);
  RouteSeries& FindRouteSeries(uint32_t upstream, uint32_t route, uint8_t method);
  UpstreamSeries& FindUpstreamSeries(uint32_t upstream);
  void AddAttempts(const LogFields& fields);

  void EmitRouteFamilies(SampleSink& sink);
  void EmitStageFamily(SampleSink& sink);
  void EmitUpstreamFamilies(SampleSink& sink);

  LogFormat format_;
  RouteTemplater templater_;
  ProxyMetricsOptions options_;
  std::vector<std::string> request_le_, upstream_le_;

  LabelValueTable routes_, upstreams_, stages_;
  std::unordered_map<uint64_t, uint32_t> route_series_index_;
  std::vector<RouteSeries> route_series_;
  std::vector<UpstreamSeries> upstream_series_;  // by upstream id

  // Per-line scratch whose capacity is reused.
  LogFields fields_;
  std::string unescaped_, route_scratch_;
  std::vector<Labels> labels_by_size_;
};

}  // namespace crmscope::agent::nginx_log
