#include "collector/api/federate_handler.h"

#include <algorithm>

#include "collector/promql/go_format.h"
#include "collector/promql/parser.h"
#include "collector/storage/storage.h"

namespace crmscope::api {

namespace {

constexpr std::string_view kTextFormat = "text/plain; version=0.0.4; charset=utf-8";

struct FederatedSample {
  const Labels* metric;
  std::string_view name;
  Sample sample;
};

// As Go's http.Error, which Prometheus's federation answers its errors with.
HttpResponse PlainError(int status, std::string_view message) {
  HttpResponse response = HttpResponse::Text(status, message);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

bool LabelsLess(const Labels& a, const Labels& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](const Label& x, const Label& y) {
                                        return x.name != y.name ? x.name < y.name
                                                                : x.value < y.value;
                                      });
}

// The text format's label value escaping: backslash, double quote and line feed.
void AppendEscapedLabelValue(std::string_view value, std::string* out) {
  for (char c : value) {
    if (c == '\\')
      *out += "\\\\";
    else if (c == '"')
      *out += "\\\"";
    else if (c == '\n')
      *out += "\\n";
    else
      *out += c;
  }
}

// expfmt's writeFloat: -0 is written as 0, the rest as Go's %g (1e+06, NaN, +Inf).
void AppendExpositionValue(double v, std::string* out) {
  if (v == 0)
    *out += '0';
  else
    *out += promql::GoFloat(v);
}

void AppendSeriesLine(const FederatedSample& s, std::string* out) {
  *out += s.name;
  bool open = false;
  bool has_instance = false;
  for (const Label& label : *s.metric) {
    // Empty values mean "unset" to Prometheus; the name is written before the braces.
    if (label.value.empty() || label.name == kMetricNameLabel) continue;
    has_instance = has_instance || label.name == "instance";
    *out += open ? ',' : '{';
    open = true;
    *out += label.name;
    *out += "=\"";
    AppendEscapedLabelValue(label.value, out);
    *out += '"';
  }
  if (!has_instance) {
    *out += open ? ',' : '{';
    *out += "instance=\"\"";
  }
  *out += "} ";
  AppendExpositionValue(s.sample.v, out);
  *out += ' ';
  *out += std::to_string(s.sample.t);
  *out += '\n';
}

// The newest sample in the querier's window, if any.
bool NewestSample(const storage::Querier& querier, storage::SeriesRef ref, Sample* out) {
  std::unique_ptr<storage::SampleIterator> it = querier.Samples(ref);
  bool found = false;
  while (it->Next()) {
    *out = it->At();
    found = true;
  }
  return found;
}

}  // namespace

HttpResponse HandleFederate(const FormValues& form, const storage::Storage& storage,
                            TimestampMs now, int64_t lookback_delta_ms) {
  if (!form.parse_error().empty()) {
    return PlainError(400, "error parsing form values: " + form.parse_error());
  }
  std::vector<Matchers> sets;
  for (std::string_view selector : form.GetAll("match[]")) {
    Matchers matchers;
    std::string error;
    if (!promql::ParseMetricSelector(selector, &matchers, &error)) return PlainError(400, error);
    sets.push_back(std::move(matchers));
  }

  storage::Querier querier = storage.NewQuerier(now - lookback_delta_ms, now);
  std::vector<storage::SeriesEntry> series;
  for (const Matchers& set : sets) {
    // Prometheus's index intersects the postings of each matcher: no matcher, no series.
    if (set.empty()) continue;
    std::vector<storage::SeriesEntry> selected = querier.Select(set);
    series.insert(series.end(), std::make_move_iterator(selected.begin()),
                  std::make_move_iterator(selected.end()));
  }
  // Several match[] may select one series: it is written once.
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return LabelsLess(a.labels, b.labels); });
  series.erase(std::unique(series.begin(), series.end(),
                           [](const auto& a, const auto& b) { return a.ref == b.ref; }),
               series.end());

  std::vector<FederatedSample> samples;
  samples.reserve(series.size());
  for (const storage::SeriesEntry& entry : series) {
    std::string_view name = MetricName(entry.labels);
    Sample newest;
    if (name.empty() || !NewestSample(querier, entry.ref, &newest) || IsStaleNaN(newest.v)) {
      continue;
    }
    samples.push_back({&entry.labels, name, newest});
  }
  std::stable_sort(samples.begin(), samples.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });

  HttpResponse response;
  response.content_type = std::string(kTextFormat);
  std::string& body = response.body;
  std::string_view family;
  for (const FederatedSample& s : samples) {
    if (s.name != family) {
      family = s.name;
      body += "# TYPE ";
      body += family;
      body += " untyped\n";
    }
    AppendSeriesLine(s, &body);
  }
  return response;
}

}  // namespace crmscope::api
