#include "collector/api/series_handlers.h"

#include <algorithm>
#include <set>

#include "collector/promql/parser.h"
#include "collector/storage/storage.h"

namespace crmscope::api {

namespace {

// labels.Compare of Prometheus: label by label, name then value; a prefix sorts first.
bool LabelsLess(const Labels& a, const Labels& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](const Label& x, const Label& y) {
                                        if (x.name != y.name) return x.name < y.name;
                                        return x.value < y.value;
                                      });
}

struct TimeRange {
  TimestampMs start = kMinApiTime;
  TimestampMs end = kMaxApiTime;
};

bool ParseTimeRange(const FormValues& form, TimeRange* range, ApiError* error) {
  return ParseTimeParam(form, "start", kMinApiTime, &range->start, error) &&
         ParseTimeParam(form, "end", kMaxApiTime, &range->end, error);
}

// Prometheus's checks of match[] (each parses, each has a matcher not matching ""). The message
// is bare: /api/v1/series prefixes it with the parameter name, the label endpoints do not.
bool ParseMatcherSets(const std::vector<std::string_view>& selectors, std::vector<Matchers>* sets,
                      std::string* error) {
  return promql::ParseMatchersParam({selectors.begin(), selectors.end()}, sets, error);
}

// Sorted, distinct strings from every matcher set, truncated to `limit` (0: all).
HttpResponse StringListResponse(std::vector<std::string> values, size_t limit) {
  std::vector<std::string> warnings;
  if (limit > 0 && values.size() > limit) {
    values.resize(limit);
    warnings.emplace_back(kTruncatedWarning);
  }
  std::string data;
  AppendJsonStringArray(values, &data);
  return SuccessResponse(data, warnings);
}

template <typename Lookup>
std::vector<std::string> UnionOverSets(const std::vector<Matchers>& sets, Lookup lookup) {
  if (sets.empty()) return lookup(Matchers{});
  std::set<std::string> merged;
  for (const Matchers& set : sets) {
    for (std::string& v : lookup(set)) merged.insert(std::move(v));
  }
  return {merged.begin(), merged.end()};
}

}  // namespace

HttpResponse HandleSeries(const FormValues& form, const storage::Storage& storage) {
  if (!form.parse_error().empty()) {
    return ErrorResponse({ErrorType::kBadData, "error parsing form values: " + form.parse_error()});
  }
  std::vector<std::string_view> selectors = form.GetAll("match[]");
  if (selectors.empty())
    return ErrorResponse({ErrorType::kBadData, "no match[] parameter provided"});
  ApiError error;
  TimeRange range;
  size_t limit = 0;
  if (!ParseTimeRange(form, &range, &error) || !ParseLimitParam(form, &limit, &error)) {
    return ErrorResponse(error);
  }
  std::vector<Matchers> sets;
  std::string problem;
  if (!ParseMatcherSets(selectors, &sets, &problem)) {
    return ErrorResponse({ErrorType::kBadData, "invalid parameter \"match[]\": " + problem});
  }

  storage::Querier querier = storage.NewQuerier(range.start, range.end);
  std::vector<storage::SeriesEntry> series;
  for (const Matchers& set : sets) {
    std::vector<storage::SeriesEntry> selected = querier.Select(set);
    series.insert(series.end(), std::make_move_iterator(selected.begin()),
                  std::make_move_iterator(selected.end()));
  }
  // Several match[] may select one series; it is listed once, in label order.
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return LabelsLess(a.labels, b.labels); });
  series.erase(std::unique(series.begin(), series.end(),
                           [](const auto& a, const auto& b) { return a.ref == b.ref; }),
               series.end());

  std::vector<std::string> warnings;
  if (limit > 0 && series.size() > limit) {
    series.resize(limit);
    warnings.emplace_back(kTruncatedWarning);
  }
  std::string data = "[";
  for (size_t i = 0; i < series.size(); ++i) {
    if (i > 0) data += ',';
    AppendLabelsJson(series[i].labels, &data);
  }
  data += ']';
  return SuccessResponse(data, warnings);
}

namespace {

// The parameters /api/v1/labels and /api/v1/label/<name>/values share.
struct LabelQuery {
  TimeRange range;
  size_t limit = 0;
  std::vector<Matchers> sets;
};

bool ParseLabelQuery(const FormValues& form, LabelQuery* q, ApiError* error) {
  if (!ParseTimeRange(form, &q->range, error) || !ParseLimitParam(form, &q->limit, error)) return false;
  std::string problem;
  if (!ParseMatcherSets(form.GetAll("match[]"), &q->sets, &problem)) {
    *error = {ErrorType::kBadData, problem};
    return false;
  }
  return true;
}

}  // namespace

HttpResponse HandleLabelNames(const FormValues& form, const storage::Storage& storage) {
  ApiError error;
  LabelQuery q;
  if (!ParseLabelQuery(form, &q, &error)) return ErrorResponse(error);
  storage::Querier querier = storage.NewQuerier(q.range.start, q.range.end);
  return StringListResponse(
      UnionOverSets(q.sets, [&](const Matchers& m) { return querier.LabelNames(m); }), q.limit);
}

HttpResponse HandleLabelValues(std::string_view label_name, const FormValues& form,
                               const storage::Storage& storage) {
  if (!IsValidLabelName(label_name)) {
    return ErrorResponse({ErrorType::kBadData, "invalid label name: " + GoQuote(label_name)});
  }
  ApiError error;
  LabelQuery q;
  if (!ParseLabelQuery(form, &q, &error)) return ErrorResponse(error);
  storage::Querier querier = storage.NewQuerier(q.range.start, q.range.end);
  return StringListResponse(
      UnionOverSets(q.sets, [&](const Matchers& m) { return querier.LabelValues(label_name, m); }),
      q.limit);
}

}  // namespace crmscope::api
