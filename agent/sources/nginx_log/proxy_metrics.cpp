#include "agent/sources/nginx_log/proxy_metrics.h"

#include <charconv>
#include <utility>

#include "agent/sources/nginx_log/field_values.h"
#include "common/labels.h"

namespace crmscope::agent::nginx_log {

namespace {

constexpr size_t kMaxUpstreams = 64;
constexpr size_t kMaxStages = 16;
constexpr uint32_t kAbsentId = 0;    // "-": the label is left out
constexpr uint32_t kOverflowId = 1;  // "other"

std::vector<std::string> LeValues(const std::vector<double>& bounds) {
  std::vector<std::string> out;
  for (double bound : bounds) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, bound);
    out.emplace_back(buffer, ec == std::errc() ? end : buffer);
  }
  out.emplace_back("+Inf");
  return out;
}

void CountStatus(std::vector<StatusCount>& counts, int status, uint64_t n) {
  for (auto& entry : counts) {
    if (entry.status == status) {
      entry.count += n;
      return;
    }
  }
  counts.push_back({static_cast<uint16_t>(status), n});
}

// The method and path of "$request" ("GET /a?b HTTP/1.1"), for formats without $request_method
// or $uri.
void SplitRequest(std::string_view request, std::string_view* method, std::string_view* path) {
  size_t first = request.find(' ');
  if (first == std::string_view::npos) return;
  *method = request.substr(0, first);
  size_t last = request.rfind(' ');
  *path = last > first ? request.substr(first + 1, last - first - 1) : request.substr(first + 1);
}

}  // namespace

std::vector<double> DefaultDurationBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

LabelValueTable::LabelValueTable(std::vector<std::string> reserved, size_t capacity,
                                 uint32_t overflow_id)
    : values_(std::move(reserved)), capacity_(capacity), overflow_id_(overflow_id) {
  for (uint32_t id = 0; id < values_.size(); ++id) ids_.emplace(values_[id], id);
}

uint32_t LabelValueTable::Intern(std::string_view value) {
  auto it = ids_.find(value);
  if (it != ids_.end()) return it->second;
  // A label value must be UTF-8 for remote write; nginx's \xHH may decode to anything.
  if (values_.size() >= capacity_ || !IsValidUtf8(value)) return overflow_id_;
  uint32_t id = static_cast<uint32_t>(values_.size());
  values_.emplace_back(value);
  ids_.emplace(values_.back(), id);
  return id;
}

void Histogram::Observe(const std::vector<double>& bounds, double value) {
  if (counts.empty()) counts.assign(bounds.size() + 1, 0);
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;  // le: a bound is inclusive
  ++counts[i];
  sum += value;
  ++count;
}

struct ProxyMetrics::LineValues {
  int status = 0;
  uint8_t method = 0;
  uint32_t upstream = kAbsentId;
  bool has_request_time = false, has_bytes = false;
  double request_time = 0, bytes = 0;
};

ProxyMetrics::ProxyMetrics(LogFormat format, RouteTemplater templater, ProxyMetricsOptions options)
    : format_(std::move(format)),
      templater_(std::move(templater)),
      options_(std::move(options)),
      request_le_(LeValues(options_.request_buckets)),
      upstream_le_(LeValues(options_.upstream_buckets)),
      routes_({"", "other"}, options_.max_routes + 2, kOverflowId),
      upstreams_({"", "other"}, kMaxUpstreams + 2, kOverflowId),
      stages_({"", "other"}, kMaxStages + 2, kOverflowId) {}

bool ProxyMetrics::AddLine(std::string_view line, std::string_view* reason) {
  if (!format_.Match(line, &fields_)) {
    *reason = "does not match the log_format";
    return false;
  }
  LineValues values;
  if (!ReadLine(fields_, &values, reason)) return false;
  RouteSeries& series = FindRouteSeries(values.upstream, RouteId(fields_), values.method);
  CountStatus(series.statuses, values.status, 1);
  if (values.has_request_time)
    series.duration.Observe(options_.request_buckets, values.request_time);
  if (values.has_bytes) series.bytes += values.bytes;
  std::string_view timing = fields_[LogVariable::kUpstreamHttpServerTiming];
  if (!IsEmptyValue(timing)) {
    ForEachServerTimingStage(timing, [&](std::string_view name, double seconds) {
      uint32_t stage = stages_.Intern(name);
      for (StageTotal& total : series.stages) {
        if (total.stage == stage) {
          total.sum += seconds;
          ++total.count;
          return;
        }
      }
      series.stages.push_back({stage, seconds, 1});
    });
  }
  AddAttempts(fields_);
  return true;
}

bool ProxyMetrics::ReadLine(const LogFields& fields, LineValues* values, std::string_view* reason) {
  if (format_.Has(LogVariable::kStatus) &&
      !ParseStatus(fields[LogVariable::kStatus], &values->status)) {
    *reason = "$status is not an HTTP status";
    return false;
  }
  std::string_view method = fields[LogVariable::kRequestMethod], path;
  if (!format_.Has(LogVariable::kRequestMethod))
    SplitRequest(fields[LogVariable::kRequest], &method, &path);
  values->method = MethodIndex(method);
  std::string_view upstream = LastAttempt(fields[LogVariable::kUpstreamAddr]);
  values->upstream = upstream.empty() ? kAbsentId : upstreams_.Intern(upstream);
  std::string_view request_time = fields[LogVariable::kRequestTime];
  values->has_request_time =
      !IsEmptyValue(request_time) && ParseDecimal(request_time, &values->request_time);
  std::string_view bytes = format_.Has(LogVariable::kBodyBytesSent)
                               ? fields[LogVariable::kBodyBytesSent]
                               : fields[LogVariable::kBytesSent];
  values->has_bytes = !IsEmptyValue(bytes) && ParseDecimal(bytes, &values->bytes);
  return true;
}

uint32_t ProxyMetrics::RouteId(const LogFields& fields) {
  std::string_view path;
  if (format_.Has(LogVariable::kUri)) {
    path = fields[LogVariable::kUri];
  } else if (format_.Has(LogVariable::kRequestUri)) {
    path = fields[LogVariable::kRequestUri];
  } else {
    std::string_view method;
    SplitRequest(fields[LogVariable::kRequest], &method, &path);
  }
  if (IsEmptyValue(path)) return kAbsentId;
  templater_.Template(UnescapeLogValue(path, format_.escape(), &unescaped_), &route_scratch_);
  return route_scratch_.empty() ? kAbsentId : routes_.Intern(route_scratch_);
}

ProxyMetrics::RouteSeries& ProxyMetrics::FindRouteSeries(uint32_t upstream, uint32_t route,
                                                         uint8_t method) {
  uint64_t key =
      (static_cast<uint64_t>(upstream) << 40) | (static_cast<uint64_t>(route) << 8) | method;
  auto [it, inserted] =
      route_series_index_.try_emplace(key, static_cast<uint32_t>(route_series_.size()));
  if (inserted) {
    RouteSeries series;
    series.upstream = upstream;
    series.route = route;
    series.method = method;
    route_series_.push_back(std::move(series));
  }
  return route_series_[it->second];
}

ProxyMetrics::UpstreamSeries& ProxyMetrics::FindUpstreamSeries(uint32_t upstream) {
  if (upstream >= upstream_series_.size()) upstream_series_.resize(upstream + 1);
  return upstream_series_[upstream];
}

void ProxyMetrics::AddAttempts(const LogFields& fields) {
  AttemptCursor addresses(fields[LogVariable::kUpstreamAddr]);
  AttemptCursor statuses(fields[LogVariable::kUpstreamStatus]);
  AttemptCursor response(fields[LogVariable::kUpstreamResponseTime]);
  AttemptCursor connect(fields[LogVariable::kUpstreamConnectTime]);
  AttemptCursor header(fields[LogVariable::kUpstreamHeaderTime]);
  std::string_view address;
  while (addresses.Next(&address)) {
    std::string_view status_text, response_text, connect_text, header_text;
    statuses.Next(&status_text);
    response.Next(&response_text);
    connect.Next(&connect_text);
    header.Next(&header_text);
    if (IsEmptyValue(address)) continue;
    UpstreamSeries& series = FindUpstreamSeries(upstreams_.Intern(address));
    int status = 0;
    if (!ParseStatus(status_text, &status)) status = 0;
    CountStatus(series.attempts, status, 1);
    double seconds = 0;
    if (ParseDecimal(response_text, &seconds))
      series.response.Observe(options_.upstream_buckets, seconds);
    if (ParseDecimal(connect_text, &seconds))
      series.connect.Observe(options_.upstream_buckets, seconds);
    if (ParseDecimal(header_text, &seconds))
      series.header.Observe(options_.upstream_buckets, seconds);
  }
}

}  // namespace crmscope::agent::nginx_log
