// ProxyMetrics::Emit: the cumulative series handed to a SampleSink at each collection.
#include <charconv>
#include <initializer_list>

#include "agent/sources/nginx_log/field_values.h"
#include "agent/sources/nginx_log/proxy_metrics.h"

namespace crmscope::agent::nginx_log {

namespace {

constexpr std::string_view kRequests = "crmscope_proxy_requests_total";
constexpr std::string_view kRequestDuration = "crmscope_proxy_request_duration_seconds";
constexpr std::string_view kResponseBytes = "crmscope_proxy_response_bytes_total";
constexpr std::string_view kStageDuration = "crmscope_proxy_stage_duration_seconds";
constexpr std::string_view kAttempts = "crmscope_proxy_upstream_attempts_total";
constexpr std::string_view kUpstreamResponse = "crmscope_proxy_upstream_response_duration_seconds";
constexpr std::string_view kUpstreamConnect = "crmscope_proxy_upstream_connect_duration_seconds";
constexpr std::string_view kUpstreamHeader = "crmscope_proxy_upstream_header_duration_seconds";

// Label sets are rebuilt in place: one scratch set per label count keeps its strings' capacity,
// so a steady collection allocates nothing. Callers pass labels already sorted by name
// (__name__ le method route stage status upstream); empty values are left out.
class LabelScratch {
 public:
  explicit LabelScratch(std::vector<Labels>* by_size) : by_size_(*by_size) {}
  const Labels& Build(std::initializer_list<LabelView> sorted) {
    size_t n = 0;
    for (const LabelView& label : sorted) n += label.value.empty() ? 0 : 1;
    if (by_size_.size() <= n) by_size_.resize(n + 1);
    Labels& labels = by_size_[n];
    labels.resize(n);
    size_t i = 0;
    for (const LabelView& label : sorted) {
      if (label.value.empty()) continue;
      labels[i].name.assign(label.name);
      labels[i].value.assign(label.value);
      ++i;
    }
    return labels;
  }

 private:
  std::vector<Labels>& by_size_;
};

class StatusText {
 public:
  explicit StatusText(uint16_t status) {
    if (status != 0)
      size_ = static_cast<size_t>(std::to_chars(text_, text_ + 8, status).ptr - text_);
  }
  std::string_view view() const { return {text_, size_}; }

 private:
  char text_[8];
  size_t size_ = 0;
};

struct SeriesLabels {
  std::string_view method, route, stage, upstream;
};

// name_bucket{le,...}, name_sum, name_count with the base labels, as Prometheus lays a histogram
// out: cumulative buckets ending in +Inf, whose value equals _count.
void EmitHistogram(SampleSink& sink, LabelScratch& scratch, std::string_view family,
                   const SeriesLabels& l, const Histogram& histogram,
                   const std::vector<std::string>& le) {
  std::string name(family);  // per series, not per line: collections are seconds apart
  name += "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < le.size(); ++i) {
    cumulative += histogram.counts.empty() ? 0 : histogram.counts[i];
    sink.Add(scratch.Build({{kMetricNameLabel, name},
                            {"le", le[i]},
                            {"method", l.method},
                            {"route", l.route},
                            {"upstream", l.upstream}}),
             static_cast<double>(cumulative));
  }
  name.resize(family.size());
  name += "_sum";
  sink.Add(scratch.Build({{kMetricNameLabel, name},
                          {"method", l.method},
                          {"route", l.route},
                          {"upstream", l.upstream}}),
           histogram.sum);
  name.resize(family.size());
  name += "_count";
  sink.Add(scratch.Build({{kMetricNameLabel, name},
                          {"method", l.method},
                          {"route", l.route},
                          {"upstream", l.upstream}}),
           static_cast<double>(histogram.count));
}

}  // namespace

void ProxyMetrics::Emit(SampleSink& sink) {
  EmitRouteFamilies(sink);
  EmitUpstreamFamilies(sink);
}

void ProxyMetrics::EmitRouteFamilies(SampleSink& sink) {
  if (route_series_.empty()) return;
  LabelScratch scratch(&labels_by_size_);
  auto labels_of = [&](const RouteSeries& s) {
    return SeriesLabels{kMethodLabels[s.method], routes_[s.route], {}, upstreams_[s.upstream]};
  };
  sink.Describe(kRequests, MetricKind::kCounter,
                "Requests nginx logged, by the upstream that gave the final answer, templated "
                "route, method and nginx's $status.",
                "");
  for (const RouteSeries& s : route_series_) {
    SeriesLabels l = labels_of(s);
    for (const StatusCount& status : s.statuses) {
      sink.Add(scratch.Build({{kMetricNameLabel, kRequests},
                              {"method", l.method},
                              {"route", l.route},
                              {"status", StatusText(status.status).view()},
                              {"upstream", l.upstream}}),
               static_cast<double>(status.count));
    }
  }
  if (format_.Has(LogVariable::kRequestTime)) {
    sink.Describe(kRequestDuration, MetricKind::kHistogram,
                  "Time nginx spent on a request ($request_time), first byte read to last byte "
                  "sent.",
                  "seconds");
    for (const RouteSeries& s : route_series_) {
      EmitHistogram(sink, scratch, kRequestDuration, labels_of(s), s.duration, request_le_);
    }
  }
  if (format_.Has(LogVariable::kBodyBytesSent) || format_.Has(LogVariable::kBytesSent)) {
    sink.Describe(kResponseBytes, MetricKind::kCounter,
                  "Bytes nginx sent to clients ($body_bytes_sent, else $bytes_sent).", "bytes");
    for (const RouteSeries& s : route_series_) {
      SeriesLabels l = labels_of(s);
      sink.Add(scratch.Build({{kMetricNameLabel, kResponseBytes},
                              {"method", l.method},
                              {"route", l.route},
                              {"upstream", l.upstream}}),
               s.bytes);
    }
  }
  if (format_.Has(LogVariable::kUpstreamHttpServerTiming)) EmitStageFamily(sink);
}

void ProxyMetrics::EmitStageFamily(SampleSink& sink) {
  LabelScratch scratch(&labels_by_size_);
  sink.Describe(kStageDuration, MetricKind::kSummary,
                "Time the upstream reported per stage in its Server-Timing header (dur).",
                "seconds");
  std::string sum_name = std::string(kStageDuration) + "_sum";
  std::string count_name = std::string(kStageDuration) + "_count";
  for (const RouteSeries& s : route_series_) {
    SeriesLabels l{kMethodLabels[s.method], routes_[s.route], {}, upstreams_[s.upstream]};
    for (const StageTotal& stage : s.stages) {
      std::string_view stage_name = stages_[stage.stage];
      sink.Add(scratch.Build({{kMetricNameLabel, sum_name},
                              {"method", l.method},
                              {"route", l.route},
                              {"stage", stage_name},
                              {"upstream", l.upstream}}),
               stage.sum);
      sink.Add(scratch.Build({{kMetricNameLabel, count_name},
                              {"method", l.method},
                              {"route", l.route},
                              {"stage", stage_name},
                              {"upstream", l.upstream}}),
               static_cast<double>(stage.count));
    }
  }
}

void ProxyMetrics::EmitUpstreamFamilies(SampleSink& sink) {
  if (!format_.Has(LogVariable::kUpstreamAddr)) return;
  bool any = false;
  for (const UpstreamSeries& s : upstream_series_) any = any || !s.attempts.empty();
  if (!any) return;
  LabelScratch scratch(&labels_by_size_);
  sink.Describe(kAttempts, MetricKind::kCounter,
                "Attempts nginx made at upstream servers, each item of the $upstream_addr list "
                "once, by that attempt's $upstream_status.",
                "");
  for (uint32_t id = 0; id < upstream_series_.size(); ++id) {
    for (const StatusCount& status : upstream_series_[id].attempts) {
      sink.Add(scratch.Build({{kMetricNameLabel, kAttempts},
                              {"status", StatusText(status.status).view()},
                              {"upstream", upstreams_[id]}}),
               static_cast<double>(status.count));
    }
  }
  struct UpstreamHistogram {
    LogVariable variable;
    std::string_view family, help;
    Histogram UpstreamSeries::*histogram;
  };
  const UpstreamHistogram histograms[] = {
      {LogVariable::kUpstreamResponseTime, kUpstreamResponse,
       "Time of one attempt at an upstream server ($upstream_response_time), per attempt.",
       &UpstreamSeries::response},
      {LogVariable::kUpstreamConnectTime, kUpstreamConnect,
       "Time to connect to an upstream server ($upstream_connect_time), per attempt.",
       &UpstreamSeries::connect},
      {LogVariable::kUpstreamHeaderTime, kUpstreamHeader,
       "Time to the upstream's response header ($upstream_header_time), per attempt.",
       &UpstreamSeries::header},
  };
  for (const UpstreamHistogram& h : histograms) {
    if (!format_.Has(h.variable)) continue;
    sink.Describe(h.family, MetricKind::kHistogram, h.help, "seconds");
    for (uint32_t id = 0; id < upstream_series_.size(); ++id) {
      const Histogram& histogram = upstream_series_[id].*h.histogram;
      if (histogram.count == 0 && upstream_series_[id].attempts.empty()) continue;
      EmitHistogram(sink, scratch, h.family, {{}, {}, {}, upstreams_[id]}, histogram, upstream_le_);
    }
  }
}

}  // namespace crmscope::agent::nginx_log
